"""The notification fan-out benchmark's parts: the worker process, the outbox store, and the
figures measured in the emulator. `bench/fanout.py` runs them."""
