// Package guard protects the doors that a shared secret opens (the staff API's bearer
// token, Telegram's webhook secret): it judges whether a configured secret is strong
// enough, and slows down clients that keep presenting wrong ones, logging them as one
// summary line a minute instead of a line per request.
package guard
