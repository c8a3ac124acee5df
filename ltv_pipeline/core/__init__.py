"""The core every layer uses: settings, the lake's layout and writes, resources, the model store."""
