// Package users is the users service's domain: accounts, passwords, access
// and refresh tokens, profiles and the admin rules around them. It knows
// nothing of HTTP or NATS: functions decode a request, call a Service method
// and encode its result, and every failure a caller can act on is an
// apperr.Error.
//
// The package is laid out as ports and adapters. Service is the application
// core; it reaches storage through the Store port (the PostgreSQL adapter is
// package pgstore) and signs access tokens through the TokenIssuer port
// (auth.Signer satisfies it). Commands (commands.go, which change state) and
// queries (queries.go, which only read) are kept apart.
package users
