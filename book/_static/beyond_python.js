/*
 * The course's digits classifier (digits_cnn) in the browser, for book/beyond_python.md.
 *
 * TensorFlow.js (window.tf, served by the book from _static/vendor/tf.min.js) loads the model that
 * the book build exported with course_lib.export into _static/beyond_python/model/. The reader
 * draws white on a black canvas; each finished stroke is turned into the model's input exactly
 * as its training digits were made:
 *
 *   1. the drawing's bounding box is centred in a square of its larger side, which is cut into
 *      8x8 cells; each cell gets the share of it covered by ink, rounded to 0..16 (scikit-learn's
 *      8x8 digits are 32x32 drawings counted the same way, in 4x4 blocks);
 *   2. those 8x8 values / 16 are resized bilinearly to 20x20 (pixel-centre aligned, edges
 *      repeated: scikit-image's resize(order=1, mode="edge")) and centred in a black 28x28 image,
 *      rounded to 0..255 and divided by 255, as course_lib.data.mnist.digits_to_mnist_images does.
 *
 * For tests, window.beyondPython exposes: ready (a Promise, resolved once the model is loaded),
 * predictPixels(array of 784 values in [0, 1]) -> Promise of the prediction, settled() -> Promise
 * of the last prediction asked for, clear(), penWidth (the pen's width in canvas pixels), and
 * lastCells (64 values, 0..16), lastInput (784 values) and lastPrediction ({digit, probability,
 * probabilities}).
 */
(function () {
  "use strict";

  var SIZE = 28; // the model's input: [1, 28, 28]
  var BOX = 20; // the digit's box inside it
  var CELLS = 8; // scikit-learn's digits: 8x8 counts of 0..16
  var LEVELS = 16;
  var PEN_WIDTH = 24; // canvas pixels; the canvas is 280x280

  var script = document.currentScript;
  var modelUrl = new URL("beyond_python/model/model.json", script.src).href;
  var api = {
    penWidth: PEN_WIDTH,
    lastCells: null,
    lastInput: null,
    lastPrediction: null,
  };
  var pending = Promise.resolve(null);
  var model = null;

  function element(id) {
    return document.getElementById(id);
  }

  /* 1. Ink share of each of the 8x8 cells of the drawing's centred square, rounded to 0..16;
   * null for an empty canvas. */
  function cellsFromCanvas(canvas) {
    var width = canvas.width;
    var height = canvas.height;
    var rgba = drawingContext().getImageData(0, 0, width, height).data;
    var left = width, right = -1, top = height, bottom = -1;
    for (var y = 0; y < height; y++) {
      for (var x = 0; x < width; x++) {
        if (rgba[4 * (y * width + x)] > 0) {
          left = Math.min(left, x);
          right = Math.max(right, x);
          top = Math.min(top, y);
          bottom = Math.max(bottom, y);
        }
      }
    }
    if (right < 0) {
      return null;
    }
    var side = Math.max(right - left + 1, bottom - top + 1);
    var x0 = (left + right + 1) / 2 - side / 2;
    var y0 = (top + bottom + 1) / 2 - side / 2;
    var cell = side / CELLS;
    var sums = new Float64Array(CELLS * CELLS);
    for (y = top; y <= bottom; y++) {
      var row = Math.min(CELLS - 1, Math.floor((y + 0.5 - y0) / cell));
      for (x = left; x <= right; x++) {
        var col = Math.min(CELLS - 1, Math.floor((x + 0.5 - x0) / cell));
        sums[row * CELLS + col] += rgba[4 * (y * width + x)] / 255;
      }
    }
    var cells = new Array(CELLS * CELLS);
    for (var i = 0; i < cells.length; i++) {
      cells[i] = Math.min(LEVELS, Math.round((LEVELS * sums[i]) / (cell * cell)));
    }
    return cells;
  }

  /* 2. The 8x8 counts as the model's 28x28 input in [0, 1] (784 values, row by row). */
  function inputFromCells(cells) {
    var input = new Float32Array(SIZE * SIZE);
    var start = (SIZE - BOX) / 2;
    function source(i) {
      var at = Math.min(CELLS - 1, Math.max(0, ((i + 0.5) * CELLS) / BOX - 0.5));
      var low = Math.floor(at);
      return [low, Math.min(CELLS - 1, low + 1), at - low];
    }
    function value(row, col) {
      return cells[row * CELLS + col] / LEVELS;
    }
    for (var i = 0; i < BOX; i++) {
      var r = source(i);
      for (var j = 0; j < BOX; j++) {
        var c = source(j);
        var upper = value(r[0], c[0]) * (1 - c[2]) + value(r[0], c[1]) * c[2];
        var lower = value(r[1], c[0]) * (1 - c[2]) + value(r[1], c[1]) * c[2];
        var v = Math.min(1, Math.max(0, upper * (1 - r[2]) + lower * r[2]));
        input[(start + i) * SIZE + start + j] = Math.round(v * 255) / 255;
      }
    }
    return input;
  }

  function showInput(input) {
    var view = element("bp-model-input");
    var context = view.getContext("2d");
    var image = context.createImageData(SIZE, SIZE);
    for (var i = 0; i < SIZE * SIZE; i++) {
      var level = Math.round(input[i] * 255);
      image.data.set([level, level, level, 255], 4 * i);
    }
    var small = document.createElement("canvas");
    small.width = SIZE;
    small.height = SIZE;
    small.getContext("2d").putImageData(image, 0, 0);
    context.imageSmoothingEnabled = false;
    context.drawImage(small, 0, 0, view.width, view.height);
  }

  function showPrediction(prediction) {
    element("bp-digit").textContent = prediction === null ? "–" : String(prediction.digit);
    element("bp-probability").textContent =
      prediction === null ? "–" : (100 * prediction.probability).toFixed(1) + " %";
    var bars = element("bp-bars");
    bars.textContent = "";
    if (prediction === null) {
      return;
    }
    prediction.probabilities.forEach(function (p, digit) {
      var row = document.createElement("div");
      row.className = "bp-bar-row";
      var label = document.createElement("span");
      label.textContent = String(digit);
      var bar = document.createElement("span");
      bar.className = "bp-bar";
      bar.style.width = (100 * p).toFixed(1) + "%";
      row.appendChild(label);
      row.appendChild(bar);
      bars.appendChild(row);
    });
  }

  /* The model's class probabilities for one 784-value input. */
  async function classify(input) {
    var output = tf.tidy(function () {
      return model.predict(tf.tensor3d(input, [1, SIZE, SIZE]));
    });
    var probabilities = Array.from(await output.data());
    output.dispose();
    var digit = probabilities.indexOf(Math.max.apply(null, probabilities));
    return { digit: digit, probability: probabilities[digit], probabilities: probabilities };
  }

  async function predictInput(input) {
    api.lastInput = Array.from(input);
    showInput(input);
    var prediction = await classify(input);
    api.lastPrediction = prediction;
    showPrediction(prediction);
    return prediction;
  }

  async function predictCanvas() {
    var cells = cellsFromCanvas(element("bp-canvas"));
    api.lastCells = cells;
    if (cells === null) {
      api.lastInput = null;
      api.lastPrediction = null;
      showPrediction(null);
      return null;
    }
    return predictInput(inputFromCells(cells));
  }

  /* Predictions run one after another, each once the model is loaded and the one before ended.
   * One that fails rejects its own promise (the browser reports it if nobody waits on it) and
   * does not stop the ones after. */
  function schedule(work) {
    var previous = pending.catch(function () {
      return null;
    });
    pending = api.ready
      .then(function () {
        return previous;
      })
      .then(work);
    return pending;
  }

  function drawingContext() {
    return element("bp-canvas").getContext("2d", { willReadFrequently: true });
  }

  function clearCanvas() {
    var canvas = element("bp-canvas");
    var context = drawingContext();
    context.fillStyle = "#000";
    context.fillRect(0, 0, canvas.width, canvas.height);
    api.lastCells = null;
    api.lastInput = null;
    api.lastPrediction = null;
    showPrediction(null);
    var view = element("bp-model-input");
    view.getContext("2d").clearRect(0, 0, view.width, view.height);
  }

  function setUpDrawing() {
    var canvas = element("bp-canvas");
    var context = drawingContext();
    var drawing = false;
    var last = null;

    function point(event) {
      var rect = canvas.getBoundingClientRect();
      return {
        x: ((event.clientX - rect.left) * canvas.width) / rect.width,
        y: ((event.clientY - rect.top) * canvas.height) / rect.height,
      };
    }
    function stroke(from, to) {
      context.strokeStyle = "#fff";
      context.fillStyle = "#fff";
      context.lineWidth = PEN_WIDTH;
      context.lineCap = "round";
      context.lineJoin = "round";
      if (from.x === to.x && from.y === to.y) {
        context.beginPath();
        context.arc(to.x, to.y, PEN_WIDTH / 2, 0, 2 * Math.PI);
        context.fill();
        return;
      }
      context.beginPath();
      context.moveTo(from.x, from.y);
      context.lineTo(to.x, to.y);
      context.stroke();
    }
    function end(event) {
      if (!drawing) {
        return;
      }
      drawing = false;
      if (canvas.hasPointerCapture(event.pointerId)) {
        canvas.releasePointerCapture(event.pointerId);
      }
      schedule(predictCanvas);
    }

    canvas.addEventListener("pointerdown", function (event) {
      event.preventDefault();
      canvas.setPointerCapture(event.pointerId);
      drawing = true;
      last = point(event);
      stroke(last, last);
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) {
        return;
      }
      var next = point(event);
      stroke(last, next);
      last = next;
    });
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
    // Predictions still queued read the canvas when they run: they find it cleared.
    element("bp-clear").addEventListener("click", clearCanvas);
    clearCanvas();
  }

  async function load() {
    var status = element("bp-status");
    // The model is small: TensorFlow.js's CPU backend predicts in milliseconds, the same way on
    // every machine, with no GPU start-up.
    await tf.setBackend("cpu");
    model = await tf.loadLayersModel(modelUrl);
    await classify(new Float32Array(SIZE * SIZE)); // warm-up
    status.textContent =
      "Model loaded (TensorFlow.js " + tf.version.tfjs + ", " + tf.getBackend() + " backend). " +
      "Draw a digit in the black square.";
  }

  api.ready = load().catch(function (error) {
    element("bp-status").textContent = "The model could not be loaded: " + error.message;
    console.error("beyond_python:", error);
    throw error;
  });
  api.predictPixels = function (pixels) {
    if (!pixels || pixels.length !== SIZE * SIZE) {
      return Promise.reject(new Error("predictPixels needs " + SIZE * SIZE + " values"));
    }
    return schedule(function () {
      api.lastCells = null;
      return predictInput(Float32Array.from(pixels));
    });
  };
  api.settled = function () {
    return pending;
  };
  api.clear = clearCanvas;
  window.beyondPython = api;

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUpDrawing);
  } else {
    setUpDrawing();
  }
})();
