package coachapi

// RoutePatterns lists every route the handler registers, so that the authorization matrix
// can prove it covers them all.
func RoutePatterns() []string {
	return New(Config{}).(*api).patterns
}
