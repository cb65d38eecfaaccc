"""``google.rpc.Status`` and ``google.rpc.ErrorInfo``, the gRPC rich error model, without googleapis.

A failed call carries, besides its status code, a serialized ``google.rpc.Status`` in
the ``grpc-status-details-bin`` trailer, whose ``details`` hold a
``google.rpc.ErrorInfo``: what Google's APIs, grpcurl and every gRPC client library
read. The two messages are declared here, field for field as in googleapis'
``google/rpc/status.proto`` and ``error_details.proto``, in a descriptor pool of their
own: the package that ships them (googleapis-common-protos) is not a dependency, and a
private pool can never clash with it in the default pool should it become one. The
bytes on the wire are the same either way.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import any_pb2, descriptor_pb2, descriptor_pool, message_factory

__all__ = ["ERROR_INFO_TYPE_URL", "STATUS_DETAILS_KEY", "decode_status", "encode_status"]

STATUS_DETAILS_KEY = "grpc-status-details-bin"
"""The trailer that carries the serialized ``google.rpc.Status``."""

ERROR_INFO_TYPE_URL = "type.googleapis.com/google.rpc.ErrorInfo"

_F = descriptor_pb2.FieldDescriptorProto


def _field(name: str, number: int, kind: int, *, repeated: bool = False, type_name: str = "") -> _F:
    field = _F(
        name=name,
        number=number,
        type=kind,  # type: ignore[arg-type]  # the enum's values are plain ints at runtime
        label=_F.LABEL_REPEATED if repeated else _F.LABEL_OPTIONAL,
    )
    if type_name:  # set only for messages: an empty one still counts as set
        field.type_name = type_name
    return field


def _build() -> tuple[Any, Any]:
    """The two message classes (typed Any: mypy cannot see the fields of a class built at run time)."""
    pool = descriptor_pool.DescriptorPool()
    any_file = descriptor_pb2.FileDescriptorProto()
    any_pb2.DESCRIPTOR.CopyToProto(any_file)
    pool.Add(any_file)
    rpc = descriptor_pb2.FileDescriptorProto(
        name="folio/grpckit/google_rpc.proto",
        package="google.rpc",
        syntax="proto3",
        dependency=["google/protobuf/any.proto"],
    )
    status = rpc.message_type.add(name="Status")
    status.field.extend(
        [
            _field("code", 1, _F.TYPE_INT32),
            _field("message", 2, _F.TYPE_STRING),
            _field("details", 3, _F.TYPE_MESSAGE, repeated=True, type_name=".google.protobuf.Any"),
        ]
    )
    info = rpc.message_type.add(name="ErrorInfo")
    entry = info.nested_type.add(name="MetadataEntry")
    entry.options.map_entry = True
    entry.field.extend([_field("key", 1, _F.TYPE_STRING), _field("value", 2, _F.TYPE_STRING)])
    info.field.extend(
        [
            _field("reason", 1, _F.TYPE_STRING),
            _field("domain", 2, _F.TYPE_STRING),
            _field(
                "metadata", 3, _F.TYPE_MESSAGE, repeated=True, type_name=".google.rpc.ErrorInfo.MetadataEntry"
            ),
        ]
    )
    pool.Add(rpc)
    return (
        message_factory.GetMessageClass(pool.FindMessageTypeByName("google.rpc.Status")),
        message_factory.GetMessageClass(pool.FindMessageTypeByName("google.rpc.ErrorInfo")),
    )


_Status, _ErrorInfo = _build()


def encode_status(
    code: int, message_text: str, *, reason: str, domain: str, metadata: dict[str, str]
) -> bytes:
    """A serialized ``google.rpc.Status`` whose one detail is an ``ErrorInfo``."""
    info = _ErrorInfo(reason=reason, domain=domain, metadata=metadata)
    status = _Status(code=code, message=message_text)
    # The pool's own Any, filled by hand: Any.Pack belongs to the default pool's class.
    status.details.add(type_url=ERROR_INFO_TYPE_URL, value=info.SerializeToString())
    encoded: bytes = status.SerializeToString()
    return encoded


def decode_status(data: bytes) -> tuple[int, str, str | None, dict[str, str]]:
    """``(code, message, ErrorInfo reason, ErrorInfo metadata)`` of a serialized ``google.rpc.Status``.

    The reason is None when no detail is an ``ErrorInfo``. Raises
    ``google.protobuf.message.DecodeError`` on bytes that are not a Status.
    """
    status = _Status.FromString(data)
    for detail in status.details:
        if detail.type_url == ERROR_INFO_TYPE_URL:
            info = _ErrorInfo.FromString(detail.value)
            return status.code, status.message, info.reason, dict(info.metadata)
    return status.code, status.message, None, {}
