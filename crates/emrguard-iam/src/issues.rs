//! Problems found while parsing a policy document, located by JSON pointer (as Parliament
//! reports them).

use emrguard_model::Severity;
use serde::Serialize;

/// What is wrong. The slug ([`IssueKind::slug`]) is stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum IssueKind {
    /// The text is not JSON.
    InvalidJson,
    /// The document is not a JSON object.
    NotAnObject,
    /// No `Version` element (IAM then uses 2008-10-17, without policy variables).
    MissingVersion,
    /// `Version` is neither `2012-10-17` nor `2008-10-17`.
    UnknownVersion,
    /// No `Statement` element.
    MissingStatement,
    /// A statement is not a JSON object.
    StatementNotObject,
    /// A statement has no `Effect`.
    MissingEffect,
    /// `Effect` is not `Allow` or `Deny`.
    InvalidEffect,
    /// Neither `Action` nor `NotAction`.
    MissingAction,
    /// Both `Action` and `NotAction`.
    ActionAndNotAction,
    /// An action is not `service:action` or `*`.
    MalformedAction,
    /// The service prefix of an action is unknown.
    UnknownService,
    /// The action (or wildcard) matches no known action of its service. Soft: the catalogue
    /// may lag behind AWS.
    UnknownAction,
    /// Neither `Resource` nor `NotResource` where one is required.
    MissingResource,
    /// Both `Resource` and `NotResource`.
    ResourceAndNotResource,
    /// A resource is neither `*` nor an ARN (`arn:partition:service:region:account:resource`).
    MalformedArn,
    /// A trust or resource policy statement without `Principal`/`NotPrincipal`.
    MissingPrincipal,
    /// `Principal` in an identity policy, boundary or SCP.
    UnexpectedPrincipal,
    /// Both `Principal` and `NotPrincipal`.
    PrincipalAndNotPrincipal,
    /// A principal that is not `*`, an account, an ARN, a service or a federated provider.
    MalformedPrincipal,
    /// The condition operator is not one IAM knows.
    UnknownConditionOperator,
    /// `Condition` (or one operator's block) is not an object of key/values.
    MalformedCondition,
    /// A condition value that cannot be valid for its operator (`NumericLessThan: "abc"`).
    InvalidConditionValue,
    /// A service-specific condition key that none of the statement's actions supports.
    ConditionKeyNotApplicable,
    /// A condition key whose prefix is neither `aws`, a service, nor an identity provider.
    UnknownConditionKey,
    /// An element IAM does not know (`Resources`, `Effects`...).
    UnknownElement,
}

impl IssueKind {
    pub fn slug(self) -> &'static str {
        match self {
            IssueKind::InvalidJson => "invalid-json",
            IssueKind::NotAnObject => "not-an-object",
            IssueKind::MissingVersion => "missing-version",
            IssueKind::UnknownVersion => "unknown-version",
            IssueKind::MissingStatement => "missing-statement",
            IssueKind::StatementNotObject => "statement-not-object",
            IssueKind::MissingEffect => "missing-effect",
            IssueKind::InvalidEffect => "invalid-effect",
            IssueKind::MissingAction => "missing-action",
            IssueKind::ActionAndNotAction => "action-and-not-action",
            IssueKind::MalformedAction => "malformed-action",
            IssueKind::UnknownService => "unknown-service",
            IssueKind::UnknownAction => "unknown-action",
            IssueKind::MissingResource => "missing-resource",
            IssueKind::ResourceAndNotResource => "resource-and-not-resource",
            IssueKind::MalformedArn => "malformed-arn",
            IssueKind::MissingPrincipal => "missing-principal",
            IssueKind::UnexpectedPrincipal => "unexpected-principal",
            IssueKind::PrincipalAndNotPrincipal => "principal-and-not-principal",
            IssueKind::MalformedPrincipal => "malformed-principal",
            IssueKind::UnknownConditionOperator => "unknown-condition-operator",
            IssueKind::MalformedCondition => "malformed-condition",
            IssueKind::InvalidConditionValue => "invalid-condition-value",
            IssueKind::ConditionKeyNotApplicable => "condition-key-not-applicable",
            IssueKind::UnknownConditionKey => "unknown-condition-key",
            IssueKind::UnknownElement => "unknown-element",
        }
    }

    /// Errors: IAM would refuse the document (so it cannot be what AWS holds, or it was
    /// altered). Everything else is a warning (`UnknownService`, `MalformedArn`...) or soft
    /// (`UnknownAction`, `ConditionKeyNotApplicable`, `UnknownConditionKey`, `MissingVersion`).
    pub fn is_error(self) -> bool {
        matches!(
            self,
            IssueKind::InvalidJson
                | IssueKind::NotAnObject
                | IssueKind::MissingStatement
                | IssueKind::StatementNotObject
                | IssueKind::MissingEffect
                | IssueKind::InvalidEffect
                | IssueKind::MissingAction
                | IssueKind::ActionAndNotAction
                | IssueKind::MissingResource
                | IssueKind::ResourceAndNotResource
                | IssueKind::MissingPrincipal
                | IssueKind::UnexpectedPrincipal
                | IssueKind::PrincipalAndNotPrincipal
                | IssueKind::UnknownConditionOperator
                | IssueKind::MalformedCondition
                | IssueKind::UnknownElement
                | IssueKind::UnknownVersion
        )
    }

    /// Default severity: errors medium, warnings medium, soft issues low.
    pub fn severity(self) -> Severity {
        match self {
            IssueKind::UnknownAction
            | IssueKind::ConditionKeyNotApplicable
            | IssueKind::UnknownConditionKey
            | IssueKind::MissingVersion => Severity::Low,
            _ => Severity::Medium,
        }
    }
}

/// One problem in a policy document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyIssue {
    pub kind: IssueKind,
    pub severity: Severity,
    /// RFC 6901 pointer into the policy document (`/Statement/2/Action/0`); empty for the root.
    pub pointer: String,
    pub message: String,
}

impl PolicyIssue {
    pub(crate) fn new(
        kind: IssueKind,
        pointer: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        PolicyIssue {
            kind,
            severity: kind.severity(),
            pointer: pointer.into(),
            message: message.into(),
        }
    }

    pub fn is_error(&self) -> bool {
        self.kind.is_error()
    }
}

/// Escape a token for a JSON pointer.
pub(crate) fn ptr(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}
