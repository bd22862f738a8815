from lodestar.cli.main import app

app(prog_name="lodestar")
