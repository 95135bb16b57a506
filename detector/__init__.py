"""Detection: the detectors (pure, registered in `detectors.DETECTORS`), the tick that
runs them over the store's per-minute counts, and incidents (grouping, root, context
bundle, lifecycle)."""
