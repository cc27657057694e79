"""The pure core: import kinds, rules, the pipeline and its ports. No boto3, no Powertools here."""
