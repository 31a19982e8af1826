"""Arrow glue shared by the engine's stages: record batches to and from polars frames typed
exactly as the Spark schema expects, and Spark frames brought to the driver."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import polars as pl
import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.pandas.types import to_arrow_schema
from pyspark.sql.types import (
    ArrayType,
    BinaryType,
    BooleanType,
    ByteType,
    DataType,
    DoubleType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
)

from detector.schema import TIME

_TYPES: dict[str, DataType] = {
    "BOOLEAN": BooleanType(),
    "TINYINT": ByteType(),
    "INT": IntegerType(),
    "BIGINT": LongType(),
    "DOUBLE": DoubleType(),
    "STRING": StringType(),
    "BINARY": BinaryType(),
}


def struct(spec: str) -> StructType:
    """A schema from ``"name TYPE, ..."`` (BOOLEAN, TINYINT, INT, BIGINT, DOUBLE, STRING, BINARY,
    ARRAY<...> of those), without a session (``StructType.fromDDL`` needs one)."""
    fields = []
    for item in spec.split(","):
        name, kind = item.split()
        inner = kind.removeprefix("ARRAY<").removesuffix(">")
        dtype = _TYPES[inner] if inner == kind else ArrayType(_TYPES[inner])
        fields.append(StructField(name, dtype))
    return StructType(fields)


def arrow_schema(spark: SparkSession, schema: StructType) -> pa.Schema:
    """The Arrow schema Spark expects back from ``mapInArrow`` for ``schema`` in this
    session (large string and binary types or not, as the session is configured)."""
    large = spark.conf.get("spark.sql.execution.arrow.useLargeVarTypes", "false") == "true"
    return to_arrow_schema(schema, timezone="UTC", prefers_large_types=large)


def to_batches(frame: pl.DataFrame, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    """``frame`` as record batches of ``schema``; columns it lacks are null."""
    missing = [pl.lit(None).alias(f.name) for f in schema if f.name not in frame.columns]
    table = frame.with_columns(missing).select(schema.names).to_arrow()
    yield from table.cast(schema).to_batches()


def collected(frame: DataFrame) -> pl.DataFrame:
    """A Spark frame brought to the driver as a polars frame, through Arrow."""
    return pl.DataFrame(pl.from_arrow(frame.toArrow()))


def byte_matrix(values: pa.Array, width: int) -> np.ndarray:
    """Binary values all ``width`` bytes long as a ``(n, width)`` uint8 matrix, no copy."""
    fixed = values.cast(pa.binary(width))
    data = np.frombuffer(fixed.buffers()[1], np.uint8)
    return data[fixed.offset * width : (fixed.offset + len(fixed)) * width].reshape(-1, width)


def epoch_time(column: str) -> pl.Expr:
    """Epoch microseconds, as Spark holds times here, as the local engine's times."""
    return pl.col(column).cast(pl.Datetime("us")).dt.replace_time_zone("UTC").cast(TIME)


def to_frame(batch: pa.RecordBatch) -> pl.DataFrame:
    return pl.from_arrow(pa.Table.from_batches([batch]))  # type: ignore[return-value]
