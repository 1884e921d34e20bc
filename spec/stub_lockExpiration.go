package spec

func lockExpirationCases() []Case { return nil }
