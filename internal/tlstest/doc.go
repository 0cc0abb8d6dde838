// Package tlstest makes the TLS material of tests: a self-signed CA and
// certificates it signs, written as PEM files into a test's temporary
// directory, as an operator would hand them to `dynakv server
// --tls-cert-file … --tls-key-file … --tls-ca-cert-file …`.
//
// Every certificate is valid for 127.0.0.1, ::1 and localhost, for a day,
// for both server and client authentication (the node presents one
// certificate in both roles under tls-cluster). Keys are ECDSA P-256
// (fast to make). Nothing here is safe for anything but tests.
//
// Concurrency: a CA may sign from several goroutines.
package tlstest
