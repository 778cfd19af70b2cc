"""The one outbound address policy: every server-side fetch passes it.

ML backends, webhooks, storage endpoints, URL imports and media downloads are addresses a
user typed. Left alone, a server fetching them is a proxy into its own network: the
cloud metadata endpoint, the database, the admin port on loopback. The policy refuses a
scheme other than http(s) and any address that is not globally routable (private,
loopback, CGNAT, reserved), unless the operator allows private networks
(`LABELOPS_OUTBOUND_ALLOW_PRIVATE_NETWORKS=true`, which `make run` sets). Link-local
addresses (where cloud metadata endpoints answer), multicast and unspecified addresses are
refused whatever the setting.

The check happens where the connection is made, not only on the URL: `policy.client()`
resolves the host, checks every address it resolves to and connects to the checked
address (so a DNS answer that changes between the check and the connection cannot slip
through), and a redirect is a new connection, checked the same way. Clients made here
ignore proxy environment variables, which would otherwise decide where bytes go.

SDK clients that open their own connections (boto3, google-cloud-storage, azure) cannot
be pinned: their endpoints go through `check_url` before a client is built.
"""

from labelops_common.outbound.policy import (
    OutboundPolicy,
    OutboundRefused,
    outbound_policy,
)

__all__ = ["OutboundPolicy", "OutboundRefused", "outbound_policy"]
