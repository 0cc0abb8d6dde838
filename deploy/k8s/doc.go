// Package k8s holds dynakv's Kubernetes manifests (the *.yaml files
// beside this one; apply them with kubectl apply -k deploy/k8s) and the
// test that validates them: each document is decoded strictly (an unknown
// or misspelt field fails) into its Kubernetes API type (k8s.io/api), and
// the objects are checked against each other (the StatefulSet's service,
// secret, probes and labels).
//
// It is a module of its own so that the main module's build and `go test
// ./...` do not pull in k8s.io/api; run its test from this directory:
// `cd deploy/k8s && go test ./...` (.ci/run does).
package k8s
