// Umbrella header for the public trt API.
#pragma once
#include "trt/builder.h"
#include "trt/engine.h"
#include "trt/logger.h"
#include "trt/network.h"
#include "trt/onnx_parser.h"
#include "trt/status.h"
#include "trt/tensor.h"
#include "trt/types.h"
#include "trt/version.h"
