"""Label Studio's finite-state machine rows: every state change of a task, an annotation or
a project, written in the transaction of the change, read back as a history."""
