package platform

import "errors"

// ErrRefused is wrapped by an adapter's Run error when the platform
// refused the bot for good: a revoked token (Telegram's 401, Discord's
// gateway close 4004) or an intent the bot was not granted (Discord's
// 4014). That is not an outage: retrying can never help, and a bot that
// keeps retrying while its health check says "healthy" is dead without
// anyone knowing. cmd/bridge exits with its own status for it, so the
// operator's supervisor sees a failed process and the log says why.
var ErrRefused = errors.New("the platform refused the bot for good")
