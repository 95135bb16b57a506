"""The application shell: `Settings`, the `Runtime` shared by the daemon and backtest,
the daemon and its parts, leadership, status, metrics, logging and the installer."""
