package bridge

import "log/slog"

// The operators' commands: whoami (any member's own id, which an operator
// needs for CLM_ADMINS) and doctor (the setup check, for operators only).

// cmdWhoami shows the member their own platform id, privately.
func cmdWhoami(c *call, _ string) {
	m := c.req.Member
	c.private("You are "+m.Platform+":"+m.ID+" here (only you see this).",
		"That is how the bot's operator names you in CLM_ADMINS.")
}

// cmdDoctor runs the setup check for an operator and shows the report
// privately, wherever it was asked for: nothing is ever posted publicly.
// Other members are told, kindly, that it is for the operators.
func cmdDoctor(c *call, _ string) {
	if c.b.opts.IsAdmin == nil || !c.b.opts.IsAdmin(c.req.Member) {
		c.outcome = OutcomeRefused
		c.b.log.LogAttrs(c.ctx, slog.LevelInfo, "doctor refused: not an operator",
			slog.String("platform", c.req.Member.Platform))
		c.private("/clm doctor is for the bot's operators: it checks how the bridge is set up. " +
			"If something does not work for you, tell the people who run this bot; /clm help lists what you can do.")
		return
	}
	if c.b.opts.Doctor == nil {
		c.outcome = OutcomeError
		c.private("The doctor check is not available in this bridge. Run `bridge doctor` where the bridge runs (for Docker: docker exec <container> /bridge doctor).")
		return
	}
	if !c.b.doctoring.TryLock() {
		c.outcome = OutcomeLimited
		c.private("A doctor check is running already. Try again in a minute.")
		return
	}
	defer c.b.doctoring.Unlock()
	c.b.log.LogAttrs(c.ctx, slog.LevelInfo, "doctor run by an operator",
		slog.String("platform", c.req.Member.Platform))
	report := c.b.opts.Doctor(c.ctx)
	if report == "" {
		report = "The doctor check found nothing to report."
	}
	c.private("🩺 Bridge doctor (only you see this):", report)
}
