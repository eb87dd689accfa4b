"""Where results go besides the report: kube-bench's PostgreSQL table (``--pgsql``) and AWS Security Hub
(``--asff``); the history store is :mod:`kubecis.store`.

Each sink is configured (and its configuration checked) before the checks run, and fed after the report
has been written, so a sink that fails loses no result. Its driver (psycopg, boto3) is imported only when
the sink is used.
"""
