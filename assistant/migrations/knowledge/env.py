from assistant.migrations import run

run()
