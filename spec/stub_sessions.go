package spec

func sessionsCases() []Case { return nil }
