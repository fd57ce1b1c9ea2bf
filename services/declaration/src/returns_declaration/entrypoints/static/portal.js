// Progressive: with JavaScript, each chosen photo goes up at once (same-origin, through the
// declaration service) with a progress bar and a thumbnail the customer can remove. Without
// it, the form posts the files with the rest of the step.
(function () {
  "use strict";
  var form = document.querySelector("form[enctype='multipart/form-data']");
  if (!form || !window.FormData || !window.XMLHttpRequest) { return; }
  var csrf = form.querySelector("input[name=csrf]").value;
  var uploading = 0;
  var submitWhenDone = false;
  form.addEventListener("submit", function (event) {
    // Continue only once every photo is up, or the step would miss one.
    if (uploading > 0) { event.preventDefault(); submitWhenDone = true; }
  });

  function keep(line, photoId) {
    var hidden = document.createElement("input");
    hidden.type = "hidden";
    hidden.name = "pending_" + line;
    hidden.value = photoId;
    hidden.dataset.photo = photoId;
    form.appendChild(hidden);
  }

  function removeButton(input, item, photoId) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button secondary small";
    button.textContent = input.dataset.removeLabel;
    button.addEventListener("click", function () {
      button.disabled = true;
      var request = new XMLHttpRequest();
      request.open("DELETE", input.dataset.remove + encodeURIComponent(photoId));
      request.setRequestHeader("X-CSRF-Token", csrf);
      request.onloadend = function () {
        if (request.status === 204 || request.status === 404) {
          var hidden = form.querySelector("input[data-photo='" + photoId + "']");
          if (hidden) { hidden.remove(); }
          item.remove();
          input.focus();
        } else { button.disabled = false; }
      };
      request.send();
    });
    return button;
  }

  function upload(input, list, file) {
    var item = document.createElement("li");
    item.className = "upload";
    var image = document.createElement("img");
    image.alt = file.name;
    image.width = 96;
    image.height = 96;
    image.src = URL.createObjectURL(file);
    var progress = document.createElement("progress");
    progress.max = 100;
    progress.value = 0;
    progress.setAttribute("aria-label", file.name);
    item.appendChild(image);
    item.appendChild(progress);
    list.appendChild(item);

    var body = new FormData();
    body.append("file", file);
    var request = new XMLHttpRequest();
    request.open("POST", input.dataset.upload);
    request.setRequestHeader("X-CSRF-Token", csrf);
    request.upload.onprogress = function (event) {
      if (event.lengthComputable) { progress.value = Math.round(event.loaded * 100 / event.total); }
    };
    uploading += 1;
    request.onloadend = function () {
      uploading -= 1;
      progress.remove();
      var answer = null;
      try { answer = JSON.parse(request.responseText); } catch (ignored) { answer = null; }
      if (request.status === 201 && answer) {
        item.dataset.photo = answer.photo_id;
        if (answer.thumbnail_url) { image.src = answer.thumbnail_url; }
        keep(input.dataset.line, answer.photo_id);
        item.appendChild(removeButton(input, item, answer.photo_id));
      } else {
        var message = document.createElement("p");
        message.className = "field-error";
        message.setAttribute("role", "alert");
        message.textContent = (answer && answer.error && answer.error.message) || input.dataset.failedLabel;
        item.appendChild(message);
      }
      if (uploading === 0 && submitWhenDone) {
        submitWhenDone = false;
        if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
      }
    };
    request.send(body);
  }

  Array.prototype.forEach.call(form.querySelectorAll("input[type=file][data-upload]"), function (input) {
    var list = document.getElementById("uploads_" + input.dataset.line);
    input.addEventListener("change", function () {
      Array.prototype.forEach.call(input.files, function (file) { upload(input, list, file); });
      // Sent already: the form must not send the same files again.
      input.value = "";
    });
  });
})();
