"""values.schema.json refuses bad values before anything renders, and says which field is wrong.

Helm validates the values against the schema and names the offending field as a JSON pointer
(``at '/autoscaling/maxReplicas'``); each case asserts that pointer, and the value where the
message repeats it, so an operator reading ``helm install``'s error knows what to change.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.charts.chart_support import CHART, PRODUCTION

BAD_VALUES = [
    ({"replicaCount": -1}, "/replicaCount", "minimum"),
    ({"autoscalling": {"enabled": True}}, "'autoscalling' not allowed", None),  # a typo is refused, not ignored
    ({"autoscaling": {"maxReplicas": 0}}, "/autoscaling/maxReplicas", "minimum"),
    ({"autoscaling": {"targetCPUUtilizationPercentage": 150}}, "/autoscaling/targetCPUUtilizationPercentage", "maximum"),
    ({"shutdown": {"graceSeconds": "20s"}}, "/shutdown/graceSeconds", "want integer"),
    ({"shutdown": {"preStopSleepSeconds": -5}}, "/shutdown/preStopSleepSeconds", "minimum"),
    ({"terminationGracePeriodSeconds": "35"}, "/terminationGracePeriodSeconds", "want"),
    ({"gitSync": {"period": "every minute"}}, "/gitSync/period", "'every minute'"),
    ({"gitSync": {"repo": "github.com/acme/policies"}}, "/gitSync/repo", "'github.com/acme/policies'"),
    ({"gitSync": {"image": {"digest": "latest"}}}, "/gitSync/image/digest", "'latest'"),
    ({"gitSync": {"maxFailures": -2}}, "/gitSync/maxFailures", "minimum"),
    ({"metrics": {"serviceMonitor": {"interval": "30"}}}, "/metrics/serviceMonitor/interval", "'30'"),
    ({"metrics": {"serviceMonitor": {"bearerTokenSecret": {"name": "Metrics Key"}}}}, "/metrics/serviceMonitor/bearerTokenSecret/name", "'Metrics Key'"),
    ({"networkPolicy": {"ingress": {"namespaces": ["Ingress_Nginx"]}}}, "/networkPolicy/ingress/namespaces/0", "'Ingress_Nginx'"),
    ({"networkPolicy": {"egress": {"database": {"port": 70000}}}}, "/networkPolicy/egress/database/port", "maximum"),
    ({"networkPolicy": {"egress": {"upstreams": {"ports": ["https"]}}}}, "/networkPolicy/egress/upstreams/ports/0", "want integer"),
    ({"grafanaDashboard": {"labels": {"grafana_dashboard": 1}}}, "/grafanaDashboard/labels/grafana_dashboard", "want string"),  # "1", quoted
    ({"clientKeys": {"existingSecret": "Client Keys"}}, "/clientKeys/existingSecret", "'Client Keys'"),
    ({"clientKeys": {"secret": "keys"}}, "'secret' not allowed", None),
    ({"auditSigningKey": {"key": "signing key"}}, "/auditSigningKey/key", "'signing key'"),
    ({"upstream": {"apiKeySecrets": [{"env": "1KEY", "existingSecret": "azure", "key": "api-key"}]}}, "/upstream/apiKeySecrets/0/env", "'1KEY'"),
    ({"upstream": {"apiKeySecrets": [{"env": "AZURE_KEY", "key": "api-key"}]}}, "/upstream/apiKeySecrets/0", "existingSecret"),
]


@pytest.mark.parametrize(("values", "field", "detail"), BAD_VALUES, ids=[case[1] for case in BAD_VALUES])
def test_a_bad_value_is_refused_naming_its_field(helm: Any, render: Any, values: dict[str, Any], field: str, detail: str | None) -> None:
    with pytest.raises(helm.HelmValuesError) as failure:
        render(values)
    message = str(failure.value)
    assert field in message, message
    if detail is not None:
        assert detail in message, message


def test_every_default_and_the_documented_production_values_pass_the_schema(helm: Any, render: Any) -> None:
    objects, _ = render(PRODUCTION)
    assert objects
    with helm.Chart.load(CHART) as chart:
        defaults = chart.values
    schema = json.loads((CHART / "values.schema.json").read_text())
    assert set(defaults) <= set(schema["properties"]), "a values.yaml key the schema does not describe would be refused"
    assert schema["additionalProperties"] is False
