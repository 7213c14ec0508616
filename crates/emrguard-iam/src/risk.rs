//! Risk classes and privilege tiers of a principal, across all of its policies.
//!
//! # What "granted" means here
//!
//! Risk classes look at what a principal may do **on every resource** of an action's type
//! ("unscoped"): a statement grants an action unscoped when its `Resource` is `*`, or an ARN
//! pattern covering every resource of the action's resource type
//! ([`crate::Catalogue::unscoped_by`]: `arn:aws:iam::*:role/*`, `arn:aws:s3:::*`...), or it
//! uses `NotResource`; actions that take no resource (`ec2:DescribeInstances`) count whatever
//! the `Resource` (as Cloudsplaining does). Per principal, over identity policies (a user's
//! include its groups'), the permissions boundary and SCP levels:
//!
//! - **unconditional** = unscoped by some unconditional identity `Allow`, by the boundary (if
//!   any) and by every SCP level (if any), and not removed by an unscoped `Deny` (conditional
//!   or not);
//! - **conditional** = unscoped-allowed where some allow needed is conditional, or removed only
//!   by a conditional `Deny`, and not removed by an unconditional unscoped `Deny`.
//!
//! A `Deny` on specific resources does not remove an action (the principal keeps it elsewhere).
//! A `Deny` with `NotResource` does (the grant is narrowed to the listed resources).
//!
//! # Classes ([`RiskClass`])
//!
//! - **Administrator**: unconditionally holds every `iam` action at the Write and Permissions
//!   management levels and `sts:AssumeRole`. Covers `*` on `*`, `NotAction` that excludes
//!   nothing of IAM/STS, and `iam:*` + `sts:*`.
//! - **PrivilegeEscalation**: every action of one of [`ESCALATION_METHODS`] (Cloudsplaining's
//!   list, which includes Rhino Security Labs' and pathfinding.cloud's, plus EMR on EKS and EKS
//!   Pod Identity methods).
//! - **DataExfiltration**: [`DATA_EXFILTRATION_ACTIONS`] (Cloudsplaining's list plus object
//!   versions, Parameter Store history, batch secret reads, RDS snapshots, DynamoDB reads).
//! - **ResourceExposure**: Permissions-management actions that can be scoped to resources.
//! - **CredentialsExposure**: [`CREDENTIALS_EXPOSURE_ACTIONS`] (Cloudsplaining's list, with
//!   its `gamelist:` typos corrected, plus `eks-auth:AssumeRoleForPodIdentity`).
//! - **InfrastructureModification**: Write, Permissions-management and Tagging actions that can
//!   be scoped to resources, outside IAM.
//! - **ServiceWildcard**: services all of whose actions are granted unscoped, through a
//!   service-wide pattern (`*`, `s3:*`) or `NotAction` in an Allow statement (listing every
//!   action one by one does not count).
//!
//! Each class lists its actions (unconditional and conditional apart) and the `Allow`
//! statements that grant them.
//!
//! # Privilege tier ([`PrivilegeTier`])
//!
//! `Administrator` when the Administrator class holds unconditionally; else
//! `PrivilegeEscalation` when any escalation method holds (even conditionally) or
//! Administrator holds conditionally; else `Write` when the principal is allowed, on any
//! resource and under any condition, some Write, Permissions-management or Tagging action (not
//! removed by an unconditional unscoped Deny, within the boundary and SCPs); else `Read` for
//! some Read or List action; else `None`.

use crate::actionset::ActionSet;
use crate::catalogue::{AccessLevel, Catalogue};
use crate::eval::StatementRef;
use crate::policy::Effect;
use crate::principal::PrincipalPolicies;
use serde::Serialize;
use std::sync::OnceLock;

/// A privilege-escalation method: holding all its actions (unscoped) is enough to escalate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EscalationMethod {
    pub name: &'static str,
    pub actions: &'static [&'static str],
    /// `cloudsplaining` or `emrguard`.
    pub source: &'static str,
}

const fn cs(name: &'static str, actions: &'static [&'static str]) -> EscalationMethod {
    EscalationMethod {
        name,
        actions,
        source: "cloudsplaining",
    }
}

const fn eg(name: &'static str, actions: &'static [&'static str]) -> EscalationMethod {
    EscalationMethod {
        name,
        actions,
        source: "emrguard",
    }
}

/// Privilege-escalation methods. The `cloudsplaining` ones are `PRIVILEGE_ESCALATION_METHODS`
/// of cloudsplaining 0.9.1 (`shared/constants.py`), verbatim.
pub const ESCALATION_METHODS: &[EscalationMethod] = &[
    cs("CreateAccessKey", &["iam:createaccesskey"]),
    cs("CreateLoginProfile", &["iam:createloginprofile"]),
    cs("UpdateLoginProfile", &["iam:updateloginprofile"]),
    cs("AddUserToGroup", &["iam:addusertogroup"]),
    cs("CreateNewPolicyVersion", &["iam:createpolicyversion"]),
    cs(
        "SetExistingDefaultPolicyVersion",
        &["iam:setdefaultpolicyversion"],
    ),
    cs("AttachUserPolicy", &["iam:attachuserpolicy"]),
    cs("AttachGroupPolicy", &["iam:attachgrouppolicy"]),
    cs("AttachRolePolicy", &["iam:attachrolepolicy"]),
    cs("PutUserPolicy", &["iam:putuserpolicy"]),
    cs("PutGroupPolicy", &["iam:putgrouppolicy"]),
    cs("PutRolePolicy", &["iam:putrolepolicy"]),
    cs(
        "UpdateRolePolicyToAssumeIt",
        &["iam:updateassumerolepolicy"],
    ),
    cs(
        "CreateEC2WithExistingIP",
        &["iam:passrole", "ec2:runinstances"],
    ),
    cs(
        "PassExistingRoleToNewLambdaThenInvoke",
        &[
            "iam:passrole",
            "lambda:createfunction",
            "lambda:invokefunction",
        ],
    ),
    cs(
        "PassExistingRoleToNewLambdaThenTriggerWithNewDynamo",
        &[
            "iam:passrole",
            "lambda:createfunction",
            "lambda:createeventsourcemapping",
            "dynamodb:createtable",
            "dynamodb:putitem",
        ],
    ),
    cs(
        "PassExistingRoleToNewLambdaThenTriggerWithExistingDynamo",
        &[
            "iam:passrole",
            "lambda:createfunction",
            "lambda:createeventsourcemapping",
        ],
    ),
    cs(
        "PassExistingRoleToNewGlueDevEndpoint",
        &["iam:passrole", "glue:createdevendpoint"],
    ),
    cs(
        "PassExistingRoleToCloudFormation",
        &["iam:passrole", "cloudformation:createstack"],
    ),
    cs(
        "PassExistingRoleToNewDataPipeline",
        &["iam:passrole", "datapipeline:createpipeline"],
    ),
    cs("UpdateExistingGlueDevEndpoint", &["glue:updatedevendpoint"]),
    cs(
        "EditExistingLambdaFunctionWithRole",
        &["lambda:updatefunctioncode"],
    ),
    cs(
        "AccessExistingBedrockCodeInterpreterSession",
        &[
            "bedrock-agentcore:startcodeinterpretersession",
            "bedrock-agentcore:invokecodeinterpreter",
        ],
    ),
    cs(
        "ExecuteCloudFormationChangeSet",
        &[
            "cloudformation:createchangeset",
            "cloudformation:executechangeset",
        ],
    ),
    cs(
        "ModifyEC2InstanceUserDataThenRestart",
        &[
            "ec2:modifyinstanceattribute",
            "ec2:stopinstances",
            "ec2:startinstances",
        ],
    ),
    cs(
        "ModifyExistingEC2LaunchTemplate",
        &[
            "ec2:createlaunchtemplateversion",
            "ec2:modifylaunchtemplate",
        ],
    ),
    cs(
        "EC2InstanceConnectSendSSHPublicKey",
        &[
            "ec2-instance-connect:sendsshpublickey",
            "ec2:describeinstances",
        ],
    ),
    cs(
        "ECSExecuteCommandOnRunningTask",
        &["ecs:executecommand", "ecs:describetasks"],
    ),
    cs(
        "UpdateAndInvokeLambdaFunction",
        &["lambda:updatefunctioncode", "lambda:invokefunction"],
    ),
    cs(
        "UpdateLambdaFunctionAndAddPermission",
        &["lambda:updatefunctioncode", "lambda:addpermission"],
    ),
    cs(
        "CreatePresignedSageMakerNotebookUrl",
        &["sagemaker:createpresignednotebookinstanceurl"],
    ),
    cs(
        "UpdateSageMakerNotebookLifecycleConfig",
        &[
            "sagemaker:createnotebookinstancelifecycleconfig",
            "sagemaker:stopnotebookinstance",
            "sagemaker:updatenotebookinstance",
            "sagemaker:startnotebookinstance",
        ],
    ),
    cs(
        "PassExistingRoleToNewAppRunnerService",
        &["iam:passrole", "apprunner:createservice"],
    ),
    cs(
        "PassExistingRoleToNewBedrockCodeInterpreter",
        &[
            "iam:passrole",
            "bedrock-agentcore:createcodeinterpreter",
            "bedrock-agentcore:startcodeinterpretersession",
            "bedrock-agentcore:invokecodeinterpreter",
        ],
    ),
    cs(
        "PassExistingRoleToNewCloudFormationStackSet",
        &[
            "iam:passrole",
            "cloudformation:createstackset",
            "cloudformation:createstackinstances",
        ],
    ),
    cs(
        "PassRoleToUpdateCloudFormationStackSet",
        &["iam:passrole", "cloudformation:updatestackset"],
    ),
    cs(
        "PassExistingRoleToNewCodeBuildProjectThenBuild",
        &[
            "iam:passrole",
            "codebuild:createproject",
            "codebuild:startbuild",
        ],
    ),
    cs(
        "PassExistingRoleToNewCodeBuildProjectThenBuildBatch",
        &[
            "iam:passrole",
            "codebuild:createproject",
            "codebuild:startbuildbatch",
        ],
    ),
    cs(
        "PassExistingRoleToNewEC2SpotInstance",
        &["iam:passrole", "ec2:requestspotinstances"],
    ),
    cs(
        "PassExistingRoleToNewECSClusterServiceTask",
        &[
            "iam:passrole",
            "ecs:createcluster",
            "ecs:registertaskdefinition",
            "ecs:createservice",
        ],
    ),
    cs(
        "PassExistingRoleToNewECSClusterRunTask",
        &[
            "iam:passrole",
            "ecs:createcluster",
            "ecs:registertaskdefinition",
            "ecs:runtask",
        ],
    ),
    cs(
        "PassExistingRoleToNewECSService",
        &[
            "iam:passrole",
            "ecs:registertaskdefinition",
            "ecs:createservice",
        ],
    ),
    cs(
        "PassExistingRoleToNewECSTaskViaRunTask",
        &["iam:passrole", "ecs:registertaskdefinition", "ecs:runtask"],
    ),
    cs(
        "PassExistingRoleToNewECSTaskViaStartTask",
        &[
            "iam:passrole",
            "ecs:registertaskdefinition",
            "ecs:starttask",
        ],
    ),
    cs(
        "PassExistingRoleToNewGlueJobThenRun",
        &["iam:passrole", "glue:createjob", "glue:startjobrun"],
    ),
    cs(
        "PassExistingRoleToNewGlueJobViaTrigger",
        &["iam:passrole", "glue:createjob", "glue:createtrigger"],
    ),
    cs(
        "PassExistingRoleToUpdatedGlueJobThenRun",
        &["iam:passrole", "glue:updatejob", "glue:startjobrun"],
    ),
    cs(
        "PassExistingRoleToUpdatedGlueJobViaTrigger",
        &["iam:passrole", "glue:updatejob", "glue:createtrigger"],
    ),
    cs(
        "PassExistingRoleToNewLambdaThenAddPermission",
        &[
            "iam:passrole",
            "lambda:createfunction",
            "lambda:addpermission",
        ],
    ),
    cs(
        "PassExistingRoleToNewSageMakerNotebookInstance",
        &["iam:passrole", "sagemaker:createnotebookinstance"],
    ),
    cs(
        "PassExistingRoleToNewSageMakerTrainingJob",
        &["iam:passrole", "sagemaker:createtrainingjob"],
    ),
    cs(
        "PassExistingRoleToNewSageMakerProcessingJob",
        &["iam:passrole", "sagemaker:createprocessingjob"],
    ),
    cs(
        "CreateAndRotateAccessKey",
        &["iam:createaccesskey", "iam:deleteaccesskey"],
    ),
    cs(
        "AttachUserPolicyThenCreateAccessKey",
        &["iam:attachuserpolicy", "iam:createaccesskey"],
    ),
    cs(
        "CreatePolicyVersionThenAssumeRole",
        &["iam:createpolicyversion", "sts:assumerole"],
    ),
    cs(
        "PutUserPolicyThenCreateAccessKey",
        &["iam:putuserpolicy", "iam:createaccesskey"],
    ),
    cs(
        "AttachRolePolicyThenUpdateAssumeRolePolicy",
        &["iam:attachrolepolicy", "iam:updateassumerolepolicy"],
    ),
    cs(
        "CreatePolicyVersionThenUpdateAssumeRolePolicy",
        &["iam:createpolicyversion", "iam:updateassumerolepolicy"],
    ),
    cs(
        "PutRolePolicyThenUpdateAssumeRolePolicy",
        &["iam:putrolepolicy", "iam:updateassumerolepolicy"],
    ),
    // EMR on EKS and EKS (emrguard): a job or endpoint runs with a role the caller picks.
    eg(
        "StartEmrContainersJobWithAnyExecutionRole",
        &["emr-containers:startjobrun"],
    ),
    eg(
        "PassExistingRoleToNewEmrContainersJob",
        &["iam:passrole", "emr-containers:startjobrun"],
    ),
    eg(
        "PassExistingRoleToNewEmrManagedEndpoint",
        &["iam:passrole", "emr-containers:createmanagedendpoint"],
    ),
    eg(
        "PassExistingRoleToNewEksPodIdentityAssociation",
        &["iam:passrole", "eks:createpodidentityassociation"],
    ),
    eg(
        "PassExistingRoleToUpdatedEksPodIdentityAssociation",
        &["iam:passrole", "eks:updatepodidentityassociation"],
    ),
];

/// Read actions that leak data when unscoped.
pub const DATA_EXFILTRATION_ACTIONS: &[&str] = &[
    // cloudsplaining READ_ONLY_DATA_EXFILTRATION_ACTIONS
    "s3:GetObject",
    "ssm:GetParameter",
    "ssm:GetParameters",
    "ssm:GetParametersByPath",
    "secretsmanager:GetSecretValue",
    // cloudsplaining's risk definition mentions these two
    "rds:CopyDBSnapshot",
    "rds:CreateDBSnapshot",
    // emrguard additions
    "s3:GetObjectVersion",
    "ssm:GetParameterHistory",
    "secretsmanager:BatchGetSecretValue",
    "rds:CopyDBClusterSnapshot",
    "rds:CreateDBClusterSnapshot",
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:ExportTableToPointInTime",
];

/// Actions whose response carries credentials (cloudsplaining `ACTIONS_THAT_RETURN_CREDENTIALS`,
/// 0.9.1, `gamelist:` typos corrected to `gamelift:`; plus `eks-auth:AssumeRoleForPodIdentity`).
pub const CREDENTIALS_EXPOSURE_ACTIONS: &[&str] = &[
    "airflow:CreateCliToken",
    "airflow:CreateWebLoginToken",
    "appsync:CreateApiKey",
    "chime:CreateApiKey",
    "cloud9:CreateEnvironmentToken",
    "codeartifact:GetAuthorizationToken",
    "codepipeline:PollForJobs",
    "cognito-identity:GetOpenIdToken",
    "cognito-identity:GetOpenIdTokenForDeveloperIdentity",
    "cognito-identity:GetCredentialsForIdentity",
    "cognito-idp:GetSigningCertificate",
    "connect:GetFederationToken",
    "connect:GetFederationTokens",
    "ec2:GetPasswordData",
    "ecr:GetAuthorizationToken",
    "ecr-public:GetAuthorizationToken",
    "emr-containers:GetManagedEndpointSessionCredentials",
    "finspace-api:GetProgrammaticAccessCredentials",
    "gamelift:RequestUploadCredentials",
    "gamelift:GetInstanceAccess",
    "gamelift:GetComputeAccess",
    "gamelift:GetComputeAuthToken",
    "grafana:CreateWorkspaceApiKey",
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:CreateServiceSpecificCredential",
    "iam:ResetServiceSpecificCredential",
    "iam:UpdateAccessKey",
    "license-manager:GetAccessToken",
    "lightsail:GetInstanceAccessDetails",
    "lightsail:DownloadDefaultKeyPair",
    "lightsail:CreateBucketAccessKey",
    "lightsail:GetRelationalDatabaseMasterUserPassword",
    "mediapackage:RotateChannelCredentials",
    "mediapackage:RotateIngestEndpointCredentials",
    "rds-db:connect",
    "redshift:GetClusterCredentials",
    "redshift:GetClusterCredentialsWithIAM",
    "redshift-serverless:GetCredentials",
    "sso:GetRoleCredentials",
    "sts:AssumeRole",
    "sts:AssumeRoleWithSAML",
    "sts:AssumeRoleWithWebIdentity",
    "sts:GetFederationToken",
    "sts:GetSessionToken",
    "eks-auth:AssumeRoleForPodIdentity",
];

const BUCKET_READ: &[&str] = &["s3:GetObject", "s3:GetObjectVersion"];
const BUCKET_WRITE: &[&str] = &[
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:PutObjectAcl",
];
const GLUE_READ: &[&str] = &[
    "glue:GetTable",
    "glue:GetTables",
    "glue:GetPartition",
    "glue:GetPartitions",
    "glue:BatchGetPartition",
];
const GLUE_WRITE: &[&str] = &[
    "glue:CreateTable",
    "glue:UpdateTable",
    "glue:DeleteTable",
    "glue:BatchDeleteTable",
    "glue:CreatePartition",
    "glue:BatchCreatePartition",
    "glue:UpdatePartition",
    "glue:DeletePartition",
    "glue:BatchDeletePartition",
];
const DYNAMO_READ: &[&str] = &[
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
];
const DYNAMO_WRITE: &[&str] = &[
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
];

struct Masks {
    admin: ActionSet,
    escalation: Vec<(EscalationMethod, Vec<u32>)>,
    escalation_all: ActionSet,
    exfil: ActionSet,
    exposure: ActionSet,
    credentials: ActionSet,
    infra: ActionSet,
    modify: ActionSet,
    read: ActionSet,
    bucket_read: ActionSet,
    bucket_write: ActionSet,
    glue_read: ActionSet,
    glue_write: ActionSet,
    dynamo_read: ActionSet,
    dynamo_write: ActionSet,
}

fn masks() -> &'static Masks {
    static M: OnceLock<Masks> = OnceLock::new();
    M.get_or_init(|| {
        let cat = Catalogue::global();
        let n = cat.len();
        let iam = cat
            .service_actions("iam")
            .map(|r| ActionSet::from_range(r, n))
            .unwrap_or_else(|| ActionSet::empty(n));
        let modify = cat
            .with_level(AccessLevel::Write)
            .union(cat.with_level(AccessLevel::PermissionsManagement))
            .union(cat.with_level(AccessLevel::Tagging));
        let admin = iam
            .intersection(
                &cat.with_level(AccessLevel::Write)
                    .union(cat.with_level(AccessLevel::PermissionsManagement)),
            )
            .union(&cat.set_of(&["sts:AssumeRole"]));
        let escalation: Vec<(EscalationMethod, Vec<u32>)> = ESCALATION_METHODS
            .iter()
            .filter_map(|m| {
                let ids: Option<Vec<u32>> = m.actions.iter().map(|a| cat.lookup(a)).collect();
                ids.map(|ids| (*m, ids))
            })
            .collect();
        let escalation_all = ActionSet::from_ids(
            escalation
                .iter()
                .flat_map(|(_, ids)| ids.iter().copied())
                .collect(),
            n,
        );
        Masks {
            admin,
            escalation,
            escalation_all,
            exfil: cat.set_of(DATA_EXFILTRATION_ACTIONS),
            exposure: cat
                .with_level(AccessLevel::PermissionsManagement)
                .difference(cat.unrestrictable()),
            credentials: cat.set_of(CREDENTIALS_EXPOSURE_ACTIONS),
            infra: modify.difference(cat.unrestrictable()).difference(&iam),
            read: cat
                .with_level(AccessLevel::Read)
                .union(cat.with_level(AccessLevel::List)),
            modify,
            bucket_read: cat.set_of(BUCKET_READ),
            bucket_write: cat.set_of(BUCKET_WRITE),
            glue_read: cat.set_of(GLUE_READ),
            glue_write: cat.set_of(GLUE_WRITE),
            dynamo_read: cat.set_of(DYNAMO_READ),
            dynamo_write: cat.set_of(DYNAMO_WRITE),
        }
    })
}

/// What a principal holds, as catalogue action sets (see the module documentation).
#[derive(Debug, Clone)]
pub struct Grants {
    /// Unscoped and unconditional.
    pub unconditional: ActionSet,
    /// Unscoped, but only under conditions.
    pub conditional: ActionSet,
    /// Allowed on some resource under some condition (for the privilege tier).
    pub any_resource: ActionSet,
}

/// Compute a principal's [`Grants`].
pub fn grants(p: &PrincipalPolicies) -> Grants {
    let n = Catalogue::global().len();
    let buf = || ActionSet::buffer(n);
    let (mut au, mut ac, mut ga, mut du, mut dc) = (buf(), buf(), buf(), buf(), buf());
    for a in &p.identity {
        let s = a.policy.sets();
        s.allow_unscoped.or_into(&mut au);
        s.allow_unscoped_cond.or_into(&mut ac);
        s.allow_any.or_into(&mut ga);
        s.deny_unscoped.or_into(&mut du);
        s.deny_unscoped_cond.or_into(&mut dc);
    }
    let boundary_layer: Option<Vec<&crate::principal::AttachedPolicy>> =
        p.boundary.as_ref().map(|b| vec![b]);
    let layers = boundary_layer
        .into_iter()
        .chain(p.scps.iter().map(|l| l.iter().collect::<Vec<_>>()));
    for layer in layers {
        let (mut lu, mut lc, mut la) = (buf(), buf(), buf());
        for a in layer {
            let s = a.policy.sets();
            s.allow_unscoped.or_into(&mut lu);
            s.allow_unscoped_cond.or_into(&mut lc);
            s.allow_any.or_into(&mut la);
            s.deny_unscoped.or_into(&mut du);
            s.deny_unscoped_cond.or_into(&mut dc);
        }
        for i in 0..au.len() {
            let (u, c, l_u, l_c, l_a) = (
                au.get(i).copied().unwrap_or(0),
                ac.get(i).copied().unwrap_or(0),
                lu.get(i).copied().unwrap_or(0),
                lc.get(i).copied().unwrap_or(0),
                la.get(i).copied().unwrap_or(0),
            );
            let new_u = u & l_u;
            let new_c = (u | c) & (l_u | l_c) & !new_u;
            if let Some(w) = au.get_mut(i) {
                *w = new_u;
            }
            if let Some(w) = ac.get_mut(i) {
                *w = new_c;
            }
            if let Some(w) = ga.get_mut(i) {
                *w &= l_a;
            }
        }
    }
    let mut unconditional = buf();
    let mut conditional = buf();
    for i in 0..au.len() {
        let (u, c, d, dcw) = (
            au.get(i).copied().unwrap_or(0),
            ac.get(i).copied().unwrap_or(0),
            du.get(i).copied().unwrap_or(0),
            dc.get(i).copied().unwrap_or(0),
        );
        let un = u & !d & !dcw;
        if let Some(w) = unconditional.get_mut(i) {
            *w = un;
        }
        if let Some(w) = conditional.get_mut(i) {
            *w = (c | u) & !un & !d;
        }
        if let Some(w) = ga.get_mut(i) {
            *w &= !d;
        }
    }
    Grants {
        unconditional: ActionSet::from_buffer(unconditional, n),
        conditional: ActionSet::from_buffer(conditional, n),
        any_resource: ActionSet::from_buffer(ga, n),
    }
}

/// The risk classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RiskClass {
    Administrator,
    PrivilegeEscalation,
    DataExfiltration,
    ResourceExposure,
    CredentialsExposure,
    InfrastructureModification,
    ServiceWildcard,
}

impl RiskClass {
    pub fn slug(self) -> &'static str {
        match self {
            RiskClass::Administrator => "administrator",
            RiskClass::PrivilegeEscalation => "privilege-escalation",
            RiskClass::DataExfiltration => "data-exfiltration",
            RiskClass::ResourceExposure => "resource-exposure",
            RiskClass::CredentialsExposure => "credentials-exposure",
            RiskClass::InfrastructureModification => "infrastructure-modification",
            RiskClass::ServiceWildcard => "service-wildcard",
        }
    }
}

/// One escalation method that holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Escalation {
    pub method: &'static str,
    pub source: &'static str,
    /// `service:Action` names.
    pub actions: Vec<&'static str>,
    /// Some action is granted only conditionally.
    pub conditional: bool,
    pub statements: Vec<StatementRef>,
}

/// A risk class that holds for a principal.
#[derive(Debug, Clone, Serialize)]
pub struct Risk {
    pub class: RiskClass,
    /// Granted unscoped and unconditionally.
    #[serde(serialize_with = "ser_names")]
    pub actions: ActionSet,
    /// Granted unscoped under conditions.
    #[serde(serialize_with = "ser_names")]
    pub conditional_actions: ActionSet,
    /// The Allow statements that grant them.
    pub statements: Vec<StatementRef>,
    /// PrivilegeEscalation: the methods that hold.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub escalations: Vec<Escalation>,
    /// ServiceWildcard: the services (all services: `*`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<&'static str>,
}

fn ser_names<S: serde::Serializer>(set: &ActionSet, s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(names(set))
}

/// `service:Action` names of a set, in id order (by service, then action).
pub fn names(set: &ActionSet) -> Vec<String> {
    let cat = Catalogue::global();
    set.iter().map(|id| cat.action_name(id)).collect()
}

impl Risk {
    /// True when every action is only conditionally granted.
    pub fn is_conditional(&self) -> bool {
        self.actions.is_empty()
    }
    pub fn action_names(&self) -> Vec<String> {
        names(&self.actions)
    }
    pub fn conditional_action_names(&self) -> Vec<String> {
        names(&self.conditional_actions)
    }
}

/// Tiers of privilege, for tenant isolation: `Administrator > PrivilegeEscalation > Write >
/// Read > None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PrivilegeTier {
    None,
    Read,
    Write,
    PrivilegeEscalation,
    Administrator,
}

/// All risk classes of a principal, and its tier.
#[derive(Debug, Clone, Serialize)]
pub struct RiskReport {
    pub arn: String,
    pub risks: Vec<Risk>,
    pub tier: PrivilegeTier,
    /// A boundary set but not in the snapshot (ignored: the risks may be overstated).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boundary_unresolved: Option<String>,
    /// Attached managed policies not in the snapshot (the risks may be understated).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unresolved: Vec<String>,
}

impl RiskReport {
    pub fn get(&self, class: RiskClass) -> Option<&Risk> {
        self.risks.iter().find(|r| r.class == class)
    }
}

/// The identity Allow statements that grant any of `set` unscoped.
fn granting_statements(p: &PrincipalPolicies, set: &ActionSet) -> Vec<StatementRef> {
    let mut out: Vec<StatementRef> = Vec::new();
    if set.is_empty() {
        return out;
    }
    for a in &p.identity {
        if !a.policy.sets().allow_unscoped.intersects(set)
            && !a.policy.sets().allow_unscoped_cond.intersects(set)
        {
            continue;
        }
        for st in a.policy.statements() {
            if st.effect == Effect::Allow && st.sets().unscoped.intersects(set) {
                out.push(StatementRef::new(a, st));
            }
        }
    }
    out
}

fn class_risk(
    p: &PrincipalPolicies,
    g: &Grants,
    class: RiskClass,
    mask: &ActionSet,
) -> Option<Risk> {
    let actions = g.unconditional.intersection(mask);
    let conditional_actions = g.conditional.intersection(mask);
    if actions.is_empty() && conditional_actions.is_empty() {
        return None;
    }
    let statements = granting_statements(p, &actions.union(&conditional_actions));
    Some(Risk {
        class,
        actions,
        conditional_actions,
        statements,
        escalations: Vec::new(),
        services: Vec::new(),
    })
}

/// `true` when an identity Allow statement grants the service through a service-wide
/// pattern (`*`, `svc:*`, `s*:*`) or `NotAction` (not by listing every action).
fn granted_by_wildcard(p: &PrincipalPolicies, service: &str, range: &std::ops::Range<u32>) -> bool {
    p.identity.iter().any(|a| {
        a.policy.statements().iter().any(|st| {
            st.effect == Effect::Allow
                && (st.actions.negated
                    || st.actions.items.iter().any(|pat| {
                        let l = &*pat.lower;
                        l == "*"
                            || l.split_once(':').is_some_and(|(ps, pa)| {
                                !pa.is_empty()
                                    && pa.bytes().all(|b| b == b'*')
                                    && crate::glob::wildcard_match(ps, service)
                            })
                    }))
                && st.sets().unscoped.count_in(range.clone()) > 0
        })
    })
}

/// Compute every risk class and the privilege tier of a principal.
pub fn analyze(p: &PrincipalPolicies) -> RiskReport {
    let g = grants(p);
    analyze_with(p, &g)
}

/// [`analyze`] with grants computed already.
pub fn analyze_with(p: &PrincipalPolicies, g: &Grants) -> RiskReport {
    let m = masks();
    let cat = Catalogue::global();
    let n = cat.len();
    let mut risks = Vec::new();

    let held = g.unconditional.union(&g.conditional);

    // Administrator (cheap length test first: most principals hold far fewer actions)
    let admin_uncond =
        g.unconditional.len() >= m.admin.len() && g.unconditional.is_superset(&m.admin);
    let admin_any = !admin_uncond && held.len() >= m.admin.len() && held.is_superset(&m.admin);
    if admin_uncond || admin_any {
        let (actions, conditional_actions) = if admin_uncond {
            (m.admin.clone(), ActionSet::empty(n))
        } else {
            (
                g.unconditional.intersection(&m.admin),
                g.conditional.intersection(&m.admin),
            )
        };
        risks.push(Risk {
            class: RiskClass::Administrator,
            statements: granting_statements(p, &m.admin),
            actions,
            conditional_actions,
            escalations: Vec::new(),
            services: Vec::new(),
        });
    }

    // Privilege escalation: only the escalation actions held matter.
    let esc_held = held.intersection(&m.escalation_all);
    let mut escalations = Vec::new();
    let mut esc_u: Vec<u32> = Vec::new();
    let mut esc_c: Vec<u32> = Vec::new();
    for (method, ids) in &m.escalation {
        if esc_held.is_empty() {
            break;
        }
        if !ids.iter().all(|&i| esc_held.contains(i)) {
            continue;
        }
        let conditional = ids.iter().any(|&i| !g.unconditional.contains(i));
        for &i in ids {
            if g.unconditional.contains(i) {
                esc_u.push(i);
            } else {
                esc_c.push(i);
            }
        }
        let set = ActionSet::from_ids(ids.clone(), n);
        escalations.push(Escalation {
            method: method.name,
            source: method.source,
            actions: ids.iter().map(|&i| cat.qualified_name(i)).collect(),
            conditional,
            statements: granting_statements(p, &set),
        });
    }
    let any_escalation = !escalations.is_empty();
    if any_escalation {
        let actions = ActionSet::from_ids(esc_u, n);
        let conditional_actions = ActionSet::from_ids(esc_c, n);
        risks.push(Risk {
            class: RiskClass::PrivilegeEscalation,
            statements: granting_statements(p, &actions.union(&conditional_actions)),
            actions,
            conditional_actions,
            escalations,
            services: Vec::new(),
        });
    }

    for (class, mask) in [
        (RiskClass::DataExfiltration, &m.exfil),
        (RiskClass::ResourceExposure, &m.exposure),
        (RiskClass::CredentialsExposure, &m.credentials),
        (RiskClass::InfrastructureModification, &m.infra),
    ] {
        if let Some(r) = class_risk(p, g, class, mask) {
            risks.push(r);
        }
    }

    // Service wildcards: every action of the service held.
    let mut services = Vec::new();
    let mut svc_ids: Vec<u32> = Vec::new();
    // Walk the services of the held actions (not all services).
    let mut next_id = 0u32;
    for id in held.iter() {
        if id < next_id {
            continue;
        }
        let Some((prefix, range)) = cat.service_of(id) else {
            continue;
        };
        next_id = range.end;
        if range.start == id
            && held.contains_range(range.clone())
            && granted_by_wildcard(p, prefix, &range)
        {
            services.push(prefix);
            svc_ids.extend(range);
        }
    }
    let svc = ActionSet::from_sorted_ids(svc_ids, n);
    let svc_u = g.unconditional.intersection(&svc);
    let svc_c = g.conditional.intersection(&svc);
    if !services.is_empty() {
        if services.len() == cat.service_ranges().filter(|(_, r)| !r.is_empty()).count() {
            services = vec!["*"];
        }
        risks.push(Risk {
            class: RiskClass::ServiceWildcard,
            statements: granting_statements(p, &svc_u.union(&svc_c)),
            actions: svc_u,
            conditional_actions: svc_c,
            escalations: Vec::new(),
            services,
        });
    }

    let tier = if admin_uncond {
        PrivilegeTier::Administrator
    } else if any_escalation || admin_any {
        PrivilegeTier::PrivilegeEscalation
    } else if g.any_resource.intersects(&m.modify) {
        PrivilegeTier::Write
    } else if g.any_resource.intersects(&m.read) {
        PrivilegeTier::Read
    } else {
        PrivilegeTier::None
    };
    RiskReport {
        arn: p.arn.clone(),
        risks,
        tier,
        boundary_unresolved: p.boundary_unresolved.clone(),
        unresolved: p.unresolved.clone(),
    }
}

/// Only the tier (cheaper than [`analyze`]: no evidence collected).
pub fn privilege_tier(p: &PrincipalPolicies) -> PrivilegeTier {
    let m = masks();
    let g = grants(p);
    if g.unconditional.len() >= m.admin.len() && g.unconditional.is_superset(&m.admin) {
        return PrivilegeTier::Administrator;
    }
    let held = g.unconditional.union(&g.conditional);
    let esc_held = held.intersection(&m.escalation_all);
    if (held.len() >= m.admin.len() && held.is_superset(&m.admin))
        || (!esc_held.is_empty()
            && m.escalation
                .iter()
                .any(|(_, ids)| ids.iter().all(|&i| esc_held.contains(i))))
    {
        PrivilegeTier::PrivilegeEscalation
    } else if g.any_resource.intersects(&m.modify) {
        PrivilegeTier::Write
    } else if g.any_resource.intersects(&m.read) {
        PrivilegeTier::Read
    } else {
        PrivilegeTier::None
    }
}

/// Unscoped read and/or write on a kind of data store.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DataAccess {
    pub read: bool,
    pub write: bool,
    /// Read or write holds only under conditions.
    pub conditional: bool,
    /// The actions held (unscoped), conditional ones included.
    pub actions: Vec<String>,
    pub statements: Vec<StatementRef>,
}

impl DataAccess {
    pub fn any(&self) -> bool {
        self.read || self.write
    }
}

fn data_access(
    p: &PrincipalPolicies,
    g: &Grants,
    read: &ActionSet,
    write: &ActionSet,
) -> DataAccess {
    let held = g.unconditional.union(&g.conditional);
    let r = held.intersection(read);
    let w = held.intersection(write);
    let all = r.union(&w);
    DataAccess {
        read: !r.is_empty(),
        write: !w.is_empty(),
        conditional: !all.is_empty() && !g.unconditional.intersects(&all),
        actions: names(&all),
        statements: granting_statements(p, &all),
    }
}

/// S3 object read (`s3:GetObject`, `s3:GetObjectVersion`) or write (`s3:PutObject`,
/// `s3:DeleteObject`, `s3:DeleteObjectVersion`, `s3:PutObjectAcl`) on every bucket (`*`,
/// `arn:aws:s3:::*`, `arn:aws:s3:::*/*`).
pub fn data_access_to_all_buckets(p: &PrincipalPolicies) -> DataAccess {
    let m = masks();
    data_access(p, &grants(p), &m.bucket_read, &m.bucket_write)
}

/// Table access on every table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TableAccess {
    /// Glue Data Catalog tables and partitions (`glue:GetTable`..., `glue:UpdateTable`...).
    pub glue: DataAccess,
    /// DynamoDB items (`dynamodb:GetItem`/`Query`/`Scan`..., `PutItem`/`UpdateItem`...).
    pub dynamodb: DataAccess,
}

/// Glue table and DynamoDB item read/write on every table (`*`, `...:table/*`).
pub fn data_access_to_all_tables(p: &PrincipalPolicies) -> TableAccess {
    let m = masks();
    let g = grants(p);
    TableAccess {
        glue: data_access(p, &g, &m.glue_read, &m.glue_write),
        dynamodb: data_access(p, &g, &m.dynamo_read, &m.dynamo_write),
    }
}

/// Escalation methods whose actions are all in the catalogue (the others cannot be detected).
pub fn known_escalation_methods() -> Vec<&'static str> {
    masks().escalation.iter().map(|(m, _)| m.name).collect()
}

/// What a principal may do beyond a baseline (for "node roles hold the minimum policies").
#[derive(Debug, Clone)]
pub struct Excess {
    /// Actions allowed (on some resource) that the baseline does not allow at all.
    pub actions: ActionSet,
    /// Actions allowed unscoped that the baseline allows only scoped (or not at all).
    pub unscoped: ActionSet,
}

impl Excess {
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty() && self.unscoped.is_empty()
    }
    pub fn action_names(&self) -> Vec<String> {
        names(&self.actions)
    }
    pub fn unscoped_names(&self) -> Vec<String> {
        names(&self.unscoped)
    }
}

/// Compare a principal with a baseline principal (e.g. the node-role minimum built with
/// [`PrincipalPolicies::synthetic`]): the catalogue actions it holds beyond the baseline.
/// Conditions are not compared (a conditional grant counts as a grant on both sides).
pub fn excess_over(p: &PrincipalPolicies, baseline: &PrincipalPolicies) -> Excess {
    let g = grants(p);
    let b = grants(baseline);
    let b_unscoped = b.unconditional.union(&b.conditional);
    Excess {
        actions: g.any_resource.difference(&b.any_resource),
        unscoped: g
            .unconditional
            .union(&g.conditional)
            .difference(&b_unscoped),
    }
}
