from spindetect.cli import app

app(prog_name="spindetect")
