package spec

func poisonMessageCases() []Case { return nil }
