"""The alternative a team would pick: the same order-sign answered by a HealthChain service.

Built the way HealthChain's documentation shows (HealthChainAPI + CDSHooksService, a handler
registered with the `hook` decorator, served by uvicorn). It receives the same order-sign body
and returns one card. Runs in its own virtual environment (bench/.venv-healthchain, created by
`python -m bench`), because HealthChain pins fhir.resources to a narrower range than ours.

Usage: python bench/healthchain_app.py PORT
"""

import sys

import uvicorn
from healthchain.gateway import CDSHooksService, HealthChainAPI
from healthchain.models.requests.cdsrequest import CDSRequest
from healthchain.models.responses.cdsresponse import Card, CDSResponse, Source

app = HealthChainAPI()
cds = CDSHooksService()


@cds.hook("order-sign", id="jaki-order-sign")
def order_sign(request: CDSRequest) -> CDSResponse:
    n = sum(
        len(v.get("entry", [])) for v in (request.prefetch or {}).values() if isinstance(v, dict)
    )
    return CDSResponse(
        cards=[
            Card(
                summary=f"Reviewed {n} prefetched resources",
                indicator="info",
                source=Source(label="bench"),
            )
        ]
    )


app.register_service(cds)

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
