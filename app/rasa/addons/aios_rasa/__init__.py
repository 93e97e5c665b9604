"""Code that runs inside the Rasa server's own environment (Rasa 3.6, not the main one).

Only Rasa's documented extension points live here; `app.rasa_server` puts this folder on
the Rasa processes' PYTHONPATH. Nothing here may import the project's main packages.
"""
