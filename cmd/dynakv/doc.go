// Command dynakv runs a dynakv node (`dynakv server`) or a local
// development setup in one process (`dynakv dev`). It is a thin driver:
// flags (each also read from a DYNAKV_* environment variable) become a
// node.Config, and SIGINT/SIGTERM shut the node down gracefully, also
// while it is still starting (waiting up to --join-timeout for its ring).
package main
