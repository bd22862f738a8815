"""What every app's REST router is built from: the one error body and its handlers (`errors`),
strict input schemas and references (`schemas`), paging (`pagination`).

They import nothing of the apps, so each app's `api` module stays in its app's layer;
`lodestar.api` mounts those routers into the one NinjaAPI at the top.
"""
