"""The fault suite's kit: TCP proxies that cut or stall (`proxy`), managed processes
(`processes`, `topology`), a fake Telegram that delivers webhooks to two replicas (`telegram`,
`pusher`), scripted users (`users`, `flows`), the suite's frame (`suite`) and its scenarios
(`scenarios_processes`, `scenarios_services`, `scenarios_telegram`), and the bookkeeping that
says what was lost or handled twice (`report`). `bench/faults.py` puts them together."""
