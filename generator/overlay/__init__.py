"""Overlays: kustomize Components applied by fleetgen, so what lands in rendered/ is final.

An overlay is ``overlays/<name>/overlay.yaml``. Its fields are kustomize's and mean exactly what a
``kind: Component`` kustomization with those fields means to kustomize 5 applied to our CRDs
(``Cluster`` cluster.x-k8s.io/v1beta1, ``InClusterIPPool`` / ``GlobalInClusterIPPool``
ipam.cluster.x-k8s.io/v1alpha2); ``tests/overlay/test_kustomize_conformance.py`` holds fleetgen
to that against real kustomize. Fields: ``patches`` (strategic merge or JSON 6902, inline or
``path:``, with an optional ``target``), ``labels``, ``commonAnnotations`` and ``components``.

Order, as kustomize applies one component: its ``components`` (in list order, each completely),
then its ``patches`` (in list order), then ``labels``, then ``commonAnnotations``. So a patch's
``labelSelector`` sees labels set by earlier components but not by its own overlay, and
``labels`` win over a patch that sets the same label. A component listed twice (also through two
other components) is applied twice, as kustomize does.

Deliberate differences from kustomize (most are refusals: where kustomize gives a result, fleetgen
gives the same one or a located error):

* a patch whose target matches nothing is an error unless the entry says ``optional: true``
  (kustomize skips such a patch silently, so a renamed object would silently lose its patch);
* strategic-merge patches merge ``spec.topology.variables`` and
  ``spec.topology.workers.machineDeployments`` of a Cluster by ``name``
  (see ``strategic._merge_named_items``);
* refused because kustomize would ignore them, copy them into the object verbatim or guess:
  ``options`` (renames), ``$retainKeys``, ``$setElementOrder/…``, ``$deleteFromPrimitiveList/…``,
  ``$patch`` inside a list that is replaced whole, ``$patch: replace`` on a whole object, JSON
  pointers that are not RFC 6901, JSON 6902 operations without ``value``, ``copy`` from a missing
  key, and any JSON 6902 patch that changes an object's apiVersion, kind, name or namespace;
* a JSON 6902 patch that reads ``/metadata/annotations`` whole (``test``, ``copy``) sees the
  object's annotations; kustomize also shows it its own internal ones, so such a ``test`` can
  differ (see ``jsonpatch.annotations_while_patching`` for the part fleetgen matches);
* YAML is read as YAML 1.2 everywhere, like inventories. kustomize reads JSON 6902 patches written
  in YAML as YAML 1.1 (an unquoted ``y`` is true there) and strategic-merge patches with YAML 1.1
  numbers (``0755`` is 493 there): quote such values.
"""
