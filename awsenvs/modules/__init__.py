"""CDK Terrain constructs reused across products. Each takes typed awsenvs.config objects.

Only the binding submodules actually used are imported (`cdktn_provider_aws.<resource>`):
importing the whole `cdktn_provider_aws` package loads every AWS resource binding.
"""
