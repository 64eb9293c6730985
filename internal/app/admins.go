package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/clmbridge/clmbridge/bridge"
	"github.com/clmbridge/clmbridge/internal/doctor"
)

// DoctorTimeout bounds one /clm doctor run: a platform that does not
// answer cannot hang the command.
const DoctorTimeout = 20 * time.Second

// admin is one of the bridge's operators, named in CLM_ADMINS as
// platform:id.
type admin struct {
	platform string
	id       string
}

// parseAdmins reads CLM_ADMINS: a comma-separated list of platform:id
// (telegram:123456789, discord:80351110224678912, console:alice). Spaces
// around entries and their parts are ignored, and so are empty entries. The
// error says which entry is wrong and how to write it; it never repeats an
// id (a token pasted there by mistake stays out of the message).
func parseAdmins(s string) ([]admin, error) {
	var out []admin
	for i, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		n := i + 1
		p, id, ok := strings.Cut(entry, ":")
		p, id = strings.ToLower(strings.TrimSpace(p)), strings.TrimSpace(id)
		if !ok || p == "" || id == "" {
			return nil, fmt.Errorf("CLM_ADMINS entry %d is not platform:id: write it as the platform (%s), a colon and the member's id, as /clm whoami shows it to them", n, platformNames())
		}
		if err := checkAdminID(p, id); err != nil {
			return nil, fmt.Errorf("CLM_ADMINS entry %d: %w", n, err)
		}
		out = append(out, admin{platform: p, id: id})
	}
	return out, nil
}

// checkAdminID checks that id is a user id of the platform named p, by
// that platform's own rule.
func checkAdminID(p, id string) error {
	for _, pl := range platforms() {
		if pl.Name() == p {
			return pl.CheckUserID(id)
		}
	}
	return fmt.Errorf("the platform %q is not %s", clipRunes(p, 20), platformNames())
}

func clipRunes(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// isAdminFunc returns the core's Options.IsAdmin for CLM_ADMINS, or nil
// (nobody) when it names no one.
func isAdminFunc(s string) (func(bridge.Member) bool, error) {
	list, err := parseAdmins(s)
	if err != nil || len(list) == 0 {
		return nil, err
	}
	set := make(map[admin]struct{}, len(list))
	for _, a := range list {
		set[a] = struct{}{}
	}
	return func(m bridge.Member) bool {
		_, ok := set[admin{platform: m.Platform, id: m.ID}]
		return ok
	}, nil
}

// doctorFunc returns the core's Options.Doctor: the same checks as
// `bridge doctor` for cfg, bounded by timeout (DoctorTimeout in the
// bridge), as a report with every token and webhook secret of cfg removed
// (the checks never put one in a finding; this is a second guard).
func doctorFunc(cfg Config, timeout time.Duration) func(context.Context) string {
	return func(ctx context.Context) string {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		var b strings.Builder
		doctor.Report(&b, doctor.Run(ctx, doctorChecksFor(cfg)))
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			fmt.Fprintf(&b, "doctor: the checks were stopped after %s: whatever did not answer by then is reported above as unreachable\n", timeout)
		}
		return redactAll(b.String(), configSecrets(cfg)...)
	}
}

// configSecrets returns the tokens and webhook secrets every platform's
// configuration in cfg holds or names in files (unreadable files give
// nothing).
func configSecrets(cfg Config) []string {
	var out []string
	if v := strings.TrimSpace(cfg.DatabaseURL.password()); v != "" {
		out = append(out, v)
	}
	for _, pc := range cfg.Platforms {
		if pc != nil {
			out = append(out, pc.Secrets()...)
		}
	}
	return out
}

// redactAll replaces every occurrence of each secret in s.
func redactAll(s string, secrets ...string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return s
}
