package coachapi

import (
	"encoding/json"
	"time"

	"ringside/internal/audit"
	"ringside/internal/coaching"
	"ringside/internal/people"
	"ringside/internal/store"
)

// The JSON shapes of the API (docs/coaching.md), exported so that Go clients (`ringside user
// invite`, tests) share them with the server. Times are UTC with millisecond precision; lists
// are never null.

// ErrorBody is the "error" member of every error response.
type ErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type errorResponse struct {
	Error ErrorBody `json:"error"`
}

// User is a person who signs in.
type User struct {
	ID         string     `json:"id"`
	Email      string     `json:"email"`
	Name       string     `json:"name"`
	Role       string     `json:"role"`
	TeamIDs    []string   `json:"teamIds"`
	CreatedAt  time.Time  `json:"createdAt"`
	Disabled   bool       `json:"disabled"`
	DisabledAt *time.Time `json:"disabledAt"`
}

// UserList is the body of GET /api/users.
type UserList struct {
	Users []User `json:"users"`
}

// InviteUserRequest is the body of POST /api/users.
type InviteUserRequest struct {
	Email   string   `json:"email"`
	Name    string   `json:"name,omitempty"`
	Role    string   `json:"role"`
	TeamIDs []string `json:"teamIds,omitempty"`
	// Team names one more team, created if it does not exist.
	Team string `json:"team,omitempty"`
}

// Invitation is a user with a one-time sign-in link, shown once.
type Invitation struct {
	User      User      `json:"user"`
	SignInURL string    `json:"signInUrl"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// UpdateUserRequest is the body of PATCH /api/users/{id}; absent fields stay as they are.
type UpdateUserRequest struct {
	Name     *string   `json:"name,omitempty"`
	Role     *string   `json:"role,omitempty"`
	TeamIDs  *[]string `json:"teamIds,omitempty"`
	Disabled *bool     `json:"disabled,omitempty"`
}

// Team groups reps and their coaches.
type Team struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"createdAt"`
}

// TeamList is the body of GET /api/teams.
type TeamList struct {
	Teams []Team `json:"teams"`
}

// TeamDetail is a team with the members the caller may see.
type TeamDetail struct {
	Team
	Members []User `json:"members"`
}

// CreateTeamRequest is the body of POST /api/teams.
type CreateTeamRequest struct {
	Name string `json:"name"`
}

// Me is the body of GET /api/auth/me.
type Me struct {
	User       *User  `json:"user"` // null for the admin token
	Role       string `json:"role"`
	SuperAdmin bool   `json:"superAdmin"`
	Via        string `json:"via"` // "session", "key" or "token"
}

// SignInRequest is the body of POST /api/auth/signin.
type SignInRequest struct {
	Token string `json:"token"`
}

// SignInResponse is the body of a successful sign-in; the session is in the cookie.
type SignInResponse struct {
	User      User      `json:"user"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// SignOutAllResponse says how many sessions were ended.
type SignOutAllResponse struct {
	Revoked int `json:"revoked"`
}

// CreateKeyRequest is the body of POST /api/auth/keys.
type CreateKeyRequest struct {
	Name string `json:"name"`
}

// APIKey describes a key without the key itself.
type APIKey struct {
	ID         string     `json:"id"`
	UserID     string     `json:"userId"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"createdAt"`
	LastUsedAt *time.Time `json:"lastUsedAt"`
	RevokedAt  *time.Time `json:"revokedAt"`
}

// NewAPIKey is the 201 body of POST /api/auth/keys: the only place the key appears.
type NewAPIKey struct {
	APIKey
	Key string `json:"key"`
}

// APIKeyList is the body of GET /api/auth/keys.
type APIKeyList struct {
	Keys []APIKey `json:"keys"`
}

// Scenario is a role-play brief.
type Scenario struct {
	ID            string    `json:"id"`
	Title         string    `json:"title"`
	Persona       string    `json:"persona"`
	Objections    []string  `json:"objections"`
	GoodLooksLike string    `json:"goodLooksLike"`
	ScorecardID   string    `json:"scorecardId"`
	CreatedBy     string    `json:"createdBy"`
	CreatedAt     time.Time `json:"createdAt"`
	UpdatedAt     time.Time `json:"updatedAt"`
}

// ScenarioList is the body of GET /api/scenarios.
type ScenarioList struct {
	Scenarios []Scenario `json:"scenarios"`
}

// CreateScenarioRequest is the body of POST /api/scenarios.
type CreateScenarioRequest struct {
	Title         string   `json:"title"`
	Persona       string   `json:"persona,omitempty"`
	Objections    []string `json:"objections,omitempty"`
	GoodLooksLike string   `json:"goodLooksLike,omitempty"`
	ScorecardID   string   `json:"scorecardId,omitempty"`
}

// UpdateScenarioRequest is the body of PATCH /api/scenarios/{id}.
type UpdateScenarioRequest struct {
	Title         *string   `json:"title,omitempty"`
	Persona       *string   `json:"persona,omitempty"`
	Objections    *[]string `json:"objections,omitempty"`
	GoodLooksLike *string   `json:"goodLooksLike,omitempty"`
	ScorecardID   *string   `json:"scorecardId,omitempty"`
}

// Criterion is one line of a scorecard.
type Criterion struct {
	ID          string `json:"id"`
	Label       string `json:"label"`
	Description string `json:"description"`
	Kind        string `json:"kind"`
	Weight      int    `json:"weight"`
}

// Scorecard is a rubric of weighted criteria.
type Scorecard struct {
	ID        string      `json:"id"`
	Title     string      `json:"title"`
	CreatedBy string      `json:"createdBy"`
	CreatedAt time.Time   `json:"createdAt"`
	Criteria  []Criterion `json:"criteria"`
}

// ScorecardList is the body of GET /api/scorecards.
type ScorecardList struct {
	Scorecards []Scorecard `json:"scorecards"`
}

// CriterionRequest is one criterion of a new scorecard.
type CriterionRequest struct {
	Label       string `json:"label"`
	Description string `json:"description,omitempty"`
	Kind        string `json:"kind"`
	Weight      *int   `json:"weight,omitempty"` // default 1 (0 for a comment)
}

// CreateScorecardRequest is the body of POST /api/scorecards.
type CreateScorecardRequest struct {
	Title    string             `json:"title"`
	Criteria []CriterionRequest `json:"criteria"`
}

// Rating is a score's value for one criterion.
type Rating struct {
	CriterionID string `json:"criterionId"`
	Value       *int   `json:"value"`
	Comment     string `json:"comment"`
}

// ScoreRequest is the body of POST /api/scorecards/{id}/scores.
type ScoreRequest struct {
	SessionID string   `json:"sessionId"`
	RepID     string   `json:"repId"`
	Ratings   []Rating `json:"ratings"`
}

// Score is a coach's scoring of a rep in a session.
type Score struct {
	ID           string    `json:"id"`
	ScorecardID  string    `json:"scorecardId"`
	SessionID    string    `json:"sessionId"`
	RepID        string    `json:"repId"`
	CoachID      string    `json:"coachId"`
	AssignmentID string    `json:"assignmentId"`
	CreatedAt    time.Time `json:"createdAt"`
	Ratings      []Rating  `json:"ratings"`
}

// ScoreList is the body of GET /api/scorecards/{id}/scores.
type ScoreList struct {
	Scores []Score `json:"scores"`
}

// CriterionRollup is a rep's average on one criterion, 0 to 100 (null when never rated).
type CriterionRollup struct {
	CriterionID string   `json:"criterionId"`
	Label       string   `json:"label"`
	Weight      int      `json:"weight"`
	Ratings     int      `json:"ratings"`
	Average     *float64 `json:"average"`
}

// RepRollup is a rep's roll-up on a scorecard: overall is the weighted average, 0 to 100.
type RepRollup struct {
	RepID    string            `json:"repId"`
	Scores   int               `json:"scores"`
	Overall  *float64          `json:"overall"`
	Criteria []CriterionRollup `json:"criteria"`
}

// Rollup is the body of GET /api/scorecards/{id}/rollup.
type Rollup struct {
	ScorecardID string      `json:"scorecardId"`
	Reps        []RepRollup `json:"reps"`
}

// AssignRequest is the body of POST /api/assignments.
type AssignRequest struct {
	ScenarioID string    `json:"scenarioId"`
	RepIDs     []string  `json:"repIds"`
	DueAt      time.Time `json:"dueAt"`
	Mode       string    `json:"mode,omitempty"`       // live (default) or solo
	Recurrence string    `json:"recurrence,omitempty"` // none (default), weekly or biweekly
}

// Assignment is a scenario to practise by a rep, as of the response's time.
type Assignment struct {
	ID               string     `json:"id"`
	SeriesID         string     `json:"seriesId"`
	ScenarioID       string     `json:"scenarioId"`
	ScenarioTitle    string     `json:"scenarioTitle"`
	RepID            string     `json:"repId"`
	RepName          string     `json:"repName"`
	AssignedBy       string     `json:"assignedBy"`
	Mode             string     `json:"mode"`
	Recurrence       string     `json:"recurrence"`
	State            string     `json:"state"` // assigned, overdue, submitted or reviewed
	DueAt            time.Time  `json:"dueAt"`
	SessionID        string     `json:"sessionId"`
	LiveSessionID    string     `json:"liveSessionId"` // the call set up for a live assignment, "" before
	SubmittedAt      *time.Time `json:"submittedAt"`
	Claimed          bool       `json:"claimed"`
	ClaimedBy        string     `json:"claimedBy"`
	ClaimedAt        *time.Time `json:"claimedAt"`
	ReviewedBy       string     `json:"reviewedBy"`
	ReviewedAt       *time.Time `json:"reviewedAt"`
	WaitingMs        int64      `json:"waitingMs"`
	TimeToFeedbackMs int64      `json:"timeToFeedbackMs"`
	CreatedAt        time.Time  `json:"createdAt"`
}

// AssignmentList is the body of GET /api/assignments and POST /api/assignments.
type AssignmentList struct {
	Assignments []Assignment `json:"assignments"`
}

// ReviewQueue is the body of GET /api/reviews.
type ReviewQueue struct {
	Reviews []Assignment `json:"reviews"`
}

// SubmitRequest is the body of POST /api/assignments/{id}/submit.
type SubmitRequest struct {
	SessionID string `json:"sessionId"`
}

// ReviewComment is a timestamped comment on the reviewed session.
type ReviewComment struct {
	OffsetMs int64  `json:"offsetMs"`
	Text     string `json:"text"`
}

// CompleteReviewRequest is the body of POST /api/reviews/{id}/complete. Ratings, when
// present, score the session against the scenario's scorecard.
type CompleteReviewRequest struct {
	Comments []ReviewComment `json:"comments,omitempty"`
	Ratings  []Rating        `json:"ratings,omitempty"`
}

// FeedbackStat is the time to feedback of one coach's or team's reviews.
type FeedbackStat struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Reviews   int    `json:"reviews"`
	AverageMs int64  `json:"averageMs"`
	MedianMs  int64  `json:"medianMs"`
	MaxMs     int64  `json:"maxMs"`
}

// FeedbackStats is the body of GET /api/reviews/stats.
type FeedbackStats struct {
	Since           *time.Time     `json:"since"`
	Pending         int            `json:"pending"`
	OldestWaitingMs int64          `json:"oldestWaitingMs"`
	Coaches         []FeedbackStat `json:"coaches"`
	Teams           []FeedbackStat `json:"teams"`
}

// WebhookRequest is the body of POST /api/webhooks.
type WebhookRequest struct {
	URL    string   `json:"url"`
	Events []string `json:"events"`
}

// Webhook is a subscription, without its secret.
type Webhook struct {
	ID        string    `json:"id"`
	URL       string    `json:"url"`
	Events    []string  `json:"events"`
	CreatedBy string    `json:"createdBy"`
	CreatedAt time.Time `json:"createdAt"`
}

// NewWebhook is the 201 body of POST /api/webhooks: the only place the secret appears.
type NewWebhook struct {
	Webhook
	Secret string `json:"secret"`
}

// WebhookList is the body of GET /api/webhooks.
type WebhookList struct {
	Webhooks []Webhook `json:"webhooks"`
}

// Delivery is one line of a webhook's delivery log.
type Delivery struct {
	ID          string          `json:"id"`
	EventID     string          `json:"eventId"`
	Event       string          `json:"event"`
	Status      string          `json:"status"`
	Attempts    int             `json:"attempts"`
	LastCode    int             `json:"lastCode"`
	LastError   string          `json:"lastError"`
	CreatedAt   time.Time       `json:"createdAt"`
	UpdatedAt   time.Time       `json:"updatedAt"`
	DeliveredAt *time.Time      `json:"deliveredAt"`
	Payload     json.RawMessage `json:"payload"`
}

// DeliveryList is the body of GET /api/webhooks/{id}/deliveries.
type DeliveryList struct {
	Deliveries []Delivery `json:"deliveries"`
}

// AuditEntry is one line of the audit log.
type AuditEntry struct {
	ID         string    `json:"id"`
	At         time.Time `json:"at"`
	SessionID  string    `json:"sessionId"`
	ActorID    string    `json:"actorId"`
	ActorName  string    `json:"actorName"`
	Action     string    `json:"action"`
	TargetID   string    `json:"targetId"`
	TargetName string    `json:"targetName"`
	Detail     string    `json:"detail"`
}

// AuditList is the body of GET /api/audit.
type AuditList struct {
	Entries []AuditEntry `json:"entries"`
}

// Disclosure is the observation disclosure setting and banner.
type Disclosure = audit.Disclosure

// convert maps a slice to its API form; the result is never nil, so JSON shows [].
func convert[S, A any](in []S, f func(S) A) []A {
	out := make([]A, 0, len(in))
	for _, v := range in {
		out = append(out, f(v))
	}
	return out
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func userFrom(u store.User) User {
	return User{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, TeamIDs: orEmpty(u.TeamIDs), CreatedAt: u.CreatedAt,
		Disabled: u.DisabledAt != nil, DisabledAt: u.DisabledAt}
}

func teamFrom(t store.Team) Team { return Team{ID: t.ID, Name: t.Name, CreatedAt: t.CreatedAt} }

func keyFrom(k store.APIKey) APIKey {
	return APIKey{ID: k.ID, UserID: k.UserID, Name: k.Name, Prefix: k.Prefix, CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt, RevokedAt: k.RevokedAt}
}

func meFrom(p people.Principal) Me {
	m := Me{Role: p.Role, SuperAdmin: p.SuperAdmin, Via: "token"}
	switch {
	case p.SessionID != "":
		m.Via = "session"
	case p.KeyID != "":
		m.Via = "key"
	}
	return m
}

func scenarioFrom(s store.Scenario) Scenario {
	return Scenario{ID: s.ID, Title: s.Title, Persona: s.Persona, Objections: orEmpty(s.Objections), GoodLooksLike: s.GoodLooksLike,
		ScorecardID: s.ScorecardID, CreatedBy: s.CreatedBy, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt}
}

func scorecardFrom(s store.Scorecard) Scorecard {
	return Scorecard{ID: s.ID, Title: s.Title, CreatedBy: s.CreatedBy, CreatedAt: s.CreatedAt,
		Criteria: convert(s.Criteria, func(c store.Criterion) Criterion {
			return Criterion{ID: c.ID, Label: c.Label, Description: c.Description, Kind: c.Kind, Weight: c.Weight}
		})}
}

func ratingFrom(r store.Rating) Rating {
	return Rating{CriterionID: r.CriterionID, Value: r.Value, Comment: r.Comment}
}

func ratingsIn(in []Rating) []coaching.RatingInput {
	if in == nil {
		return nil
	}
	return convert(in, func(r Rating) coaching.RatingInput {
		return coaching.RatingInput{CriterionID: r.CriterionID, Value: r.Value, Comment: r.Comment}
	})
}

func scoreFrom(s store.Score) Score {
	return Score{ID: s.ID, ScorecardID: s.ScorecardID, SessionID: s.SessionID, RepID: s.RepID, CoachID: s.CoachID,
		AssignmentID: s.AssignmentID, CreatedAt: s.CreatedAt.UTC().Truncate(time.Millisecond), Ratings: convert(s.Ratings, ratingFrom)}
}

func rollupFrom(r coaching.RepRollup) RepRollup {
	return RepRollup{RepID: r.RepID, Scores: r.Scores, Overall: r.Overall,
		Criteria: convert(r.Criteria, func(c coaching.CriterionRollup) CriterionRollup {
			return CriterionRollup{CriterionID: c.CriterionID, Label: c.Label, Weight: c.Weight, Ratings: c.Ratings, Average: c.Average}
		})}
}

func assignmentFrom(v coaching.AssignmentView) Assignment {
	return Assignment{
		ID: v.ID, SeriesID: v.SeriesID, ScenarioID: v.ScenarioID, ScenarioTitle: v.ScenarioTitle, RepID: v.RepID,
		RepName: v.RepName, AssignedBy: v.AssignedBy, Mode: v.Mode, Recurrence: v.Recurrence, State: v.State,
		DueAt: v.DueAt, SessionID: v.SessionID, LiveSessionID: v.LiveSessionID, SubmittedAt: v.SubmittedAt, Claimed: v.Claimed, ClaimedBy: v.ClaimedBy,
		ClaimedAt: v.ClaimedAt, ReviewedBy: v.ReviewedBy, ReviewedAt: v.ReviewedAt, WaitingMs: v.Waiting.Milliseconds(),
		TimeToFeedbackMs: v.TimeToFeedback.Milliseconds(), CreatedAt: v.CreatedAt,
	}
}

func statFrom(s coaching.FeedbackStat) FeedbackStat {
	return FeedbackStat{ID: s.ID, Name: s.Name, Reviews: s.Reviews, AverageMs: s.Average.Milliseconds(),
		MedianMs: s.Median.Milliseconds(), MaxMs: s.Max.Milliseconds()}
}

func webhookFrom(w store.Webhook) Webhook {
	return Webhook{ID: w.ID, URL: w.URL, Events: orEmpty(w.Events), CreatedBy: w.CreatedBy, CreatedAt: w.CreatedAt}
}

func deliveryFrom(d store.Delivery) Delivery {
	payload := json.RawMessage(d.Payload)
	if !json.Valid(payload) {
		payload = json.RawMessage("null")
	}
	return Delivery{ID: d.ID, EventID: d.EventID, Event: d.Event, Status: d.Status, Attempts: d.Attempts, LastCode: d.LastCode,
		LastError: d.LastError, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt, DeliveredAt: d.DeliveredAt, Payload: payload}
}

func auditFrom(e store.AuditEntry) AuditEntry {
	return AuditEntry{ID: e.ID, At: e.At, SessionID: e.SessionID, ActorID: e.ActorID, ActorName: e.ActorName, Action: e.Action,
		TargetID: e.TargetID, TargetName: e.TargetName, Detail: e.Detail}
}
