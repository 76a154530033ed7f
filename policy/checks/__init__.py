"""The platform's own checkov checks, one per file, loaded with ``--external-checks-dir``.

Each check has an id (``CKV_PLAT_<n>``), a name saying what holds when it
passes, and a reason (checkov's ``guideline``, printed beside a failure).
``pipenv run policy`` loads them. checkov cannot parse ``cdktf.out`` as cdktf
writes it (``policy/scanner.py`` says why), so by hand they only run on a
Terraform JSON directory without those blocks, with the repository on the
path for the helpers they share::

    PYTHONPATH=. checkov -d DIR --framework terraform_json --external-checks-dir policy/checks

checkov hands a check the resource in its HCL shape, in which every value is
wrapped in a list; ``_hcl`` reads it back. ``_iam`` reads IAM and key policy
documents, which checkov's own checks do not parse in Terraform JSON (a policy
there is a string, and ``CKV_AWS_33`` passes a key that grants ``kms:*`` to
``Principal "*"``).
"""
