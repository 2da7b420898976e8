"""TFX's Pusher, publishing each version folder atomically.

The stock executor copies the model straight into ``<base>/<version>`` (``saved_model.pb``
last): a push killed midway leaves a numeric folder that TF Serving picks up and fails to load.
This one copies into a hidden sibling and renames it into place (``munit_tf.atomic``), so a
version folder is complete or absent. Everything else (blessing check, versioning, the
``PushedModel`` artifact and its properties) is the stock executor's. Destinations that are not
on a local or mounted filesystem (``gs://`` and other URIs, where renaming a folder is not
atomic) fall back to the stock behaviour.
"""

from __future__ import annotations

import os
import time

from absl import logging
from tfx import types
from tfx.components.pusher import executor as pusher_executor
from tfx.dsl.components.base import executor_spec
from tfx.proto import pusher_pb2
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import io_utils, proto_utils
from tfx.v1.components import Pusher

from munit_tf import atomic


class AtomicPusherExecutor(pusher_executor.Executor):
    def Do(
        self,
        input_dict: dict[str, list[types.Artifact]],
        output_dict: dict[str, list[types.Artifact]],
        exec_properties: dict,
    ) -> None:
        destination = pusher_pb2.PushDestination()
        proto_utils.json_to_proto(
            exec_properties[standard_component_specs.PUSH_DESTINATION_KEY], destination
        )
        base = destination.filesystem.base_directory
        if destination.WhichOneof("destination") != "filesystem" or "://" in base:
            return super().Do(input_dict, output_dict, exec_properties)
        self._log_startup(input_dict, output_dict, exec_properties)
        model_push = artifact_utils.get_single_instance(
            output_dict[standard_component_specs.PUSHED_MODEL_KEY]
        )
        if not self.CheckBlessing(input_dict):
            self._MarkNotPushed(model_push)
            return
        model_path = self.GetModelPath(input_dict)
        version = str(int(time.time()))  # the stock UNIX_TIMESTAMP versioning
        serving_path = os.path.join(base, version)
        if os.path.exists(serving_path):
            logging.info("Destination %s already exists, skipping the copy.", serving_path)
        else:
            # and removes what killed pushes left
            staging = atomic.staging_dir(serving_path, any_name=True)
            io_utils.copy_dir(model_path, staging)
            atomic.publish(staging, serving_path)
            logging.info("Model written to serving path %s.", serving_path)
        # the archive copy, as the stock executor makes
        io_utils.copy_dir(model_path, model_push.uri)
        self._MarkPushed(model_push, pushed_destination=serving_path, pushed_version=version)


class AtomicPusher(Pusher):
    """``tfx.components.Pusher`` with ``AtomicPusherExecutor``; same inputs, outputs and
    parameters."""

    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(AtomicPusherExecutor)
