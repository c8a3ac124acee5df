"""The dbt resource's shortcuts must agree with what dagster-dbt would have found out itself."""

import re
import subprocess

from packaging import version

from ltv_pipeline.marts.dbt_resource import dbt_resource


def test_dbt_version_without_a_subprocess_is_the_executables_own():
    resource = dbt_resource()
    output = subprocess.run([resource.dbt_executable, "--version"], capture_output=True, text=True, check=True).stdout
    reported = version.parse(re.search(r"(\d+\.\d+\.\d+)", output).group(1))
    assert resource._cli_version == reported

