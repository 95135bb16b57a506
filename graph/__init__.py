"""The dependency graph: `inventory.yaml` (schema and validation), attribution of log
events to declared services, and FalkorDB (embedded or a server) with its queries."""
