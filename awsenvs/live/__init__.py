"""The one reader of the live organization: read-only boto3 look-ups that come back as
small frozen facts (`facts`), grouped by service.

- `organization`: the organization, its OUs, accounts and service control policies;
- `iam`: IAM (and Budgets) inside one account;
- `identity_center`: IAM Identity Center's identity store and permission sets;
- `bootstrap`: what the bootstrap stack manages in the management account.

Preflight and reconcile (before a plan), `import` and `audit` decide from these facts; no
terraform and no click here.  What awsenvs writes outside Terraform (retiring an account)
is in `awsenvs.retire`, apart from the readers.
"""
