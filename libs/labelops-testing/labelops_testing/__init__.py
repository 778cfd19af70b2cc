"""What tests need and services never import: real databases, people with tokens, object-store
emulators, servers started as processes.

The workspace's `dev` dependency group installs it; no service or library depends on it, and
the import contracts (`lint-imports`) fail if one imports it.
"""
