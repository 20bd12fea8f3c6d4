"""The engine: everything that does the work. Importable without Textual or Typer."""
