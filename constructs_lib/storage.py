"""The cluster's default StorageClass: encrypted gp3 volumes through the EBS CSI driver.

EKS creates no gp3 class, and since Kubernetes 1.30 it no longer marks its
``gp2`` class (in-tree provisioner, gp2 volumes) as the default on new clusters
(EKS release notes, "Kubernetes 1.30"); a cluster created before 1.30 keeps
``gp2`` as its default through upgrades. So a claim that names no class either
stays Pending or gets gp2, depending on the cluster's age. This class is the
default, and ``gp2`` is told explicitly that it is not, so exactly one default
exists on old and new clusters alike.
"""

from __future__ import annotations

from collections.abc import Sequence

from cdktf import ITerraformDependable
from cdktf_cdktf_provider_kubernetes.annotations import Annotations, AnnotationsMetadata
from cdktf_cdktf_provider_kubernetes.storage_class_v1 import StorageClassV1, StorageClassV1Metadata
from constructs import Construct

from .validation import ARN, DNS_LABEL, Checks, checked_props

__all__ = ["DEFAULT_CLASS_ANNOTATION", "EBS_CSI_PROVISIONER", "EbsStorageClass"]

DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
EBS_CSI_PROVISIONER = "ebs.csi.aws.com"
#: The class EKS creates on every cluster (in-tree ``kubernetes.io/aws-ebs``), default on clusters created
#: before 1.30.
_EKS_GP2 = "gp2"


@checked_props
class EbsStorageClass(Construct):
    """An encrypted gp3 StorageClass (EBS CSI driver), the cluster's default unless told otherwise.

    - ``type: gp3``, ``encrypted: "true"`` (with ``kms_key_arn``, or the account's EBS key), ext4.
    - ``WaitForFirstConsumer``: a volume is created in the zone the pod is scheduled to, not in
      a zone chosen before (an EBS volume cannot follow a pod to another zone).
    - Volume expansion allowed: a full Prometheus volume grows by editing its claim.
    - Default class; ``gp2`` gets ``is-default-class: "false"`` through a server-side apply of
      that one annotation (``kubernetes_annotations``), so exactly one default exists.

    ``name`` is a token of the class's name: a construct that takes it (``PrometheusStack(...,
    storage_class=sc.name)``) is applied after the class exists.

    :param name: default ``gp3``.
    :param default: make it the cluster's default class (and gp2 not); default True.
    :param kms_key_arn: a customer-managed key for the volumes; default: the account's EBS key.
    :param reclaim_policy: ``Delete`` (default: a deleted claim deletes its volume) or ``Retain``.
    :param depends_on: what the class waits for (the EBS CSI add-on); default nothing.
    """

    def __init__(self, scope: Construct, id: str, *, name: str = "gp3", default: bool = True,
                 kms_key_arn: str | None = None, reclaim_policy: str = "Delete",
                 depends_on: Sequence[ITerraformDependable] = ()) -> None:
        super().__init__(scope, id)
        c = Checks(self.node.path)
        c.require(bool(DNS_LABEL.match(name)), "name", name, "use a DNS label such as 'gp3'")
        c.require(name != _EKS_GP2, "name", name, "gp2 is the class EKS creates; use another name, such as 'gp3'")
        if kms_key_arn is not None and c.known(kms_key_arn):
            c.require(bool(ARN.match(kms_key_arn)) and ":kms:" in kms_key_arn, "kms_key_arn", kms_key_arn,
                      "use a KMS key ARN, such as 'arn:aws:kms:eu-west-1:123456789012:key/...'")
        c.require(reclaim_policy in ("Delete", "Retain"), "reclaim_policy", reclaim_policy, "use 'Delete' or 'Retain'")
        c.done()
        parameters = {"type": "gp3", "encrypted": "true", "csi.storage.k8s.io/fstype": "ext4"}
        if kms_key_arn is not None:
            parameters["kmsKeyId"] = kms_key_arn
        self.storage_class = StorageClassV1(
            self, "class",
            metadata=StorageClassV1Metadata(name=name, annotations={DEFAULT_CLASS_ANNOTATION: str(default).lower()}),
            storage_provisioner=EBS_CSI_PROVISIONER,
            parameters=parameters,
            volume_binding_mode="WaitForFirstConsumer",
            allow_volume_expansion=True,
            reclaim_policy=reclaim_policy,
            depends_on=list(depends_on) or None)
        #: The class's name, as a token that orders what uses it after the class.
        self.name: str = self.storage_class.metadata.name
        self.default = default
        self.gp2_not_default = None
        if default:
            self.gp2_not_default = Annotations(
                self, "gp2-not-default", api_version="storage.k8s.io/v1", kind="StorageClass",
                metadata=AnnotationsMetadata(name=_EKS_GP2), annotations={DEFAULT_CLASS_ANNOTATION: "false"},
                # EKS's own field manager set the annotation on clusters created before 1.30; take it over.
                force=True)
