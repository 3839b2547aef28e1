"""organization.break_glass: named emergency IAM users in the management account.

For when IAM Identity Center (or whatever people usually sign in with) fails: AWS advises
emergency access that does not depend on it, few people, tested and watched
(https://docs.aws.amazon.com/wellarchitected/latest/framework/sec_permissions_emergency_process.html,
https://docs.aws.amazon.com/singlesignon/latest/userguide/emergency-access.html).  Each user
is console only: a console password (reset at first sign-in) and no access keys (the group's
policy denies creating them); everything but setting up MFA and the password is denied
until they sign in with MFA; then AdministratorAccess.  They hold no product group and
cannot be granted or approve one (config: they are not users of the organization).

With `alert_email`, a rule on EventBridge's default bus matches their console sign-ins
(`AWS Console Sign In via CloudTrail`) and mails the address through an SNS topic.  CloudTrail
records an IAM user's ConsoleLogin in one of several regions (names.SIGN_IN_EVENT_REGIONS),
so a rule in each forwards it to the organization's region, whose rule mails.  EventBridge
gets these events only where a CloudTrail trail is logging
(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html):
`audit` says whether one is.
"""

from __future__ import annotations

import json

from cdktn import TerraformResourceLifecycle
from cdktn_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktn_provider_aws.cloudwatch_event_target import CloudwatchEventTarget
from cdktn_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktn_provider_aws.iam_group import IamGroup
from cdktn_provider_aws.iam_group_policy_attachment import IamGroupPolicyAttachment
from cdktn_provider_aws.iam_policy import IamPolicy
from cdktn_provider_aws.iam_role import IamRole
from cdktn_provider_aws.iam_role_policy import IamRolePolicy
from cdktn_provider_aws.iam_user import IamUser
from cdktn_provider_aws.iam_user_group_membership import IamUserGroupMembership
from cdktn_provider_aws.iam_user_login_profile import IamUserLoginProfile
from cdktn_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from cdktn_provider_aws.sns_topic import SnsTopic
from cdktn_provider_aws.sns_topic_policy import SnsTopicPolicy
from cdktn_provider_aws.sns_topic_subscription import SnsTopicSubscription
from constructs import Construct

from awsenvs.config import (
    BREAK_GLASS_ALERT_NAME,
    BREAK_GLASS_GROUP,
    BREAK_GLASS_POLICY_NAME,
    MANAGED_BY,
    BreakGlass,
    tf_name,
)
from awsenvs.modules.iam_policies import break_glass_policy, sign_in_event_pattern

ADMINISTRATOR = "arn:aws:iam::aws:policy/AdministratorAccess"


class BreakGlassAccess(Construct):
    """The emergency users, their group and policy, and the sign-in alert (`region`: the
    organization's; `allowed_account_ids`: the management stack provider's)."""

    def __init__(self, scope: Construct, id: str, break_glass: BreakGlass, region: str,
                 allowed_account_ids: list[str] | None) -> None:
        super().__init__(scope, id)
        account = DataAwsCallerIdentity(self, "account")
        account.override_logical_id("break_glass_account")
        group = IamGroup(self, "group", name=BREAK_GLASS_GROUP)
        group.override_logical_id(tf_name(BREAK_GLASS_GROUP))
        policy = IamPolicy(self, "policy", name=BREAK_GLASS_POLICY_NAME,
                           description="Emergency users: nothing without MFA, no access keys",
                           policy=json.dumps(break_glass_policy(account.account_id)), tags={"managed-by": MANAGED_BY})
        policy.override_logical_id(tf_name(BREAK_GLASS_POLICY_NAME))
        for name, arn in (("policy", policy.arn), ("admin", ADMINISTRATOR)):
            attachment = IamGroupPolicyAttachment(self, f"attach-{name}", group=group.name, policy_arn=arn)
            attachment.override_logical_id(tf_name(BREAK_GLASS_GROUP, arn.rsplit("/", 1)[-1]))
        for name in break_glass.users:
            user = IamUser(self, f"user-{name}", name=name, force_destroy=True,
                           tags={"managed-by": MANAGED_BY, BREAK_GLASS_GROUP: "true"})
            user.override_logical_id(BreakGlass.tf_name(name))
            login = IamUserLoginProfile(
                self, f"login-{name}", user=user.name, password_reset_required=True,
                lifecycle=TerraformResourceLifecycle(ignore_changes=["password_length", "password_reset_required"]))
            login.override_logical_id(BreakGlass.tf_name(name))
            membership = IamUserGroupMembership(self, f"membership-{name}", user=user.name, groups=[group.name])
            membership.override_logical_id(BreakGlass.tf_name(name))
        if break_glass.alert_email:
            _sign_in_alert(self, break_glass, region, account.account_id, allowed_account_ids)


def _sign_in_alert(scope: Construct, break_glass: BreakGlass, region: str, account_id: str,
                   allowed_account_ids: list[str] | None) -> None:
    """The topic, the rules and their targets, and the forwarding role (see the module doc)."""
    pattern = json.dumps(sign_in_event_pattern(break_glass.users))
    home, *others = break_glass.alert_regions(region)
    topic = SnsTopic(scope, "topic", name=BREAK_GLASS_ALERT_NAME)
    topic.override_logical_id(tf_name(BREAK_GLASS_ALERT_NAME))
    rule = CloudwatchEventRule(scope, "rule", name=BREAK_GLASS_ALERT_NAME, event_pattern=pattern,
                               description="A break-glass user signed in to the console")
    rule.override_logical_id(tf_name(BREAK_GLASS_ALERT_NAME))
    publish = {"Version": "2012-10-17", "Statement": [{
        "Sid": "EventBridgePublishes", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sns:Publish", "Resource": topic.arn, "Condition": {"ArnEquals": {"aws:SourceArn": rule.arn}}}]}
    SnsTopicPolicy(scope, "topic-policy", arn=topic.arn, policy=json.dumps(publish)).override_logical_id(
        tf_name(BREAK_GLASS_ALERT_NAME))
    SnsTopicSubscription(scope, "subscription", topic_arn=topic.arn, protocol="email",
                         endpoint=break_glass.alert_email).override_logical_id(tf_name(BREAK_GLASS_ALERT_NAME))
    target = CloudwatchEventTarget(scope, "target", rule=rule.name, arn=topic.arn, target_id="mail")
    target.override_logical_id(tf_name(BREAK_GLASS_ALERT_NAME))
    if not others:
        return
    # The other regions' rules put the event on the home region's default bus
    # (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cross-region.html): a role lets them.
    home_bus = f"arn:aws:events:{home}:{account_id}:event-bus/default"
    role = IamRole(scope, "forward-role", name=f"{BREAK_GLASS_ALERT_NAME}-forward",
                   description="EventBridge forwards break-glass sign-ins to the organization's region",
                   assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": [{
                       "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                       "Action": "sts:AssumeRole"}]}),
                   tags={"managed-by": MANAGED_BY})
    role.override_logical_id(tf_name(BREAK_GLASS_ALERT_NAME, "forward"))
    IamRolePolicy(scope, "forward-policy", role=role.name, name="put-events", policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "events:PutEvents",
                                                "Resource": home_bus}]})).override_logical_id(
        tf_name(BREAK_GLASS_ALERT_NAME, "forward"))
    for other in others:
        provider = AwsProvider(scope, f"provider-{other}", alias=tf_name("sign_in", other), region=other,
                               allowed_account_ids=allowed_account_ids,
                               default_tags=[AwsProviderDefaultTags(tags={"managed-by": MANAGED_BY})])
        forward = CloudwatchEventRule(scope, f"rule-{other}", provider=provider, name=BREAK_GLASS_ALERT_NAME,
                                      event_pattern=pattern,
                                      description=f"A break-glass user signed in: forwarded to {home}")
        forward.override_logical_id(tf_name(BREAK_GLASS_ALERT_NAME, other))
        CloudwatchEventTarget(scope, f"target-{other}", provider=provider, rule=forward.name, arn=home_bus,
                              role_arn=role.arn, target_id="forward").override_logical_id(
            tf_name(BREAK_GLASS_ALERT_NAME, other))
