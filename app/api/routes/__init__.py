"""The routers, one module per prefix: /auth, /spotify, /pipeline, /data, /data/rules, sync."""
