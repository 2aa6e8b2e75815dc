"""Order recognition (SPEC.md section 2): the JAK / TYK2 inhibitors and biologics in draftOrders.

`recognise_orders` reads MedicationRequest (R4), MedicationOrder (STU3/DSTU2) and
MedicationRequest-shaped R5 orders; other order types (ServiceRequest, DeviceRequest...) are not
drug orders and are skipped. For order-select only the selected ids are read ("MedicationRequest/
abc" or "abc"). Drug, dose, frequency and route only; `normalise()` fills the indication.

A topical order (ruxolitinib cream, delgocitinib, a topical route or a cream/ointment form) is
marked `topical`; its dose (grams of cream) is not read and no dose problem is reported.
"""

from __future__ import annotations

from typing import Any

from cds_service.knowledge import Knowledge
from cds_service.model import Order
from cds_service.normalise.medications import LOCAL_ROUTES, reading

ORDER_TYPES = frozenset({"MedicationRequest", "MedicationOrder"})
IGNORED_STATUS = frozenset({"entered-in-error", "cancelled", "revoked", "stopped", "completed"})


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _selected(resource: dict[str, Any], selections: list[str] | None) -> bool:
    if selections is None:
        return True
    rid = resource.get("id")
    if not isinstance(rid, str):
        return False
    rtype = resource.get("resourceType")
    for sel in selections:
        if not isinstance(sel, str):
            continue
        sel = sel.strip()
        if sel == rid or sel == f"{rtype}/{rid}" or sel.endswith(f"/{rtype}/{rid}"):
            return True
    return False


def recognise_orders(
    draft_orders: list[dict[str, Any]],
    knowledge: Knowledge,
    selections: list[str] | None = None,
) -> list[Order]:
    """Target-drug orders among the draft orders (all, or only the selected ones)."""
    vs = knowledge.vs
    out: list[Order] = []
    for index, resource in enumerate(draft_orders):
        if not isinstance(resource, dict) or _text(resource.get("resourceType")) not in ORDER_TYPES:
            continue
        if _text(resource.get("status")) in IGNORED_STATUS or not _selected(resource, selections):
            continue
        # drug, route and dose read as the patient's medications are (an order naming two
        # drugs has no dose: its dose is not judged on one)
        identity, route, _, dose = reading(resource, vs)
        drug = vs.drugs.get(identity.drug or "")
        if drug is None or drug.target is None:
            continue
        rid = resource.get("id")
        ref = (
            f"{resource['resourceType']}/{rid}"
            if isinstance(rid, str) and rid
            else f"draftOrders[{index}]"
        )
        topical = route in LOCAL_ROUTES
        if topical:
            dose_mg = per_day = per_kg = problem = None
        else:
            dose_mg, per_day, per_kg, problem = (
                dose.dose_mg,
                dose.per_day,
                dose.per_kg_mg,
                dose.problem,
            )
        out.append(
            Order(
                drug=drug.id,
                drug_class=drug.target,
                ref=ref,
                resource=resource,
                dose_mg=dose_mg,
                per_day=per_day,
                dose_problem=problem,
                route=route,
                topical=topical,
                display=identity.display,
                dose_mg_per_kg=per_kg,
            )
        )
    return out
