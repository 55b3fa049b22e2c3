"""The fault suite's kit: TCP proxies that cut or stall, managed processes, a fake Telegram
that delivers webhooks to two replicas, scripted users, and the bookkeeping that says what was
lost or handled twice. `bench/faults.py` puts them together."""
