"""Incidents: findings grouped over the dependency graph, with a lifecycle, a suspected
root, cooldowns and a bounded context bundle.

Import from the modules themselves (`detector.incidents.model`, `.manager`, ...): this
package file stays empty so that reading the incident config does not load the graph
store and the ORM.
"""
