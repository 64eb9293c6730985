// Package platformerr holds the one error the platform adapters and the
// app agree on: a platform refused the bot for good. A revoked token
// (Telegram's 401, Discord's gateway close 4004) or an intent the bot was
// not granted (Discord's 4014) is not an outage: retrying can never help,
// and a bot that keeps retrying while its health check says "healthy" is
// dead without anyone knowing. An adapter that meets one ends Run with an
// error wrapping [ErrRefused]; cmd/bridge then exits with its own status,
// so the operator's supervisor sees a failed process and the log says why.
//
// It is a package of its own because the adapters cannot import the app
// that wires them, and the bridge core knows nothing of platforms.
package platformerr

import "errors"

// ErrRefused is wrapped by an adapter's Run error when the platform
// refused the bot's credentials or settings, so that retrying cannot help.
var ErrRefused = errors.New("the platform refused the bot for good")
