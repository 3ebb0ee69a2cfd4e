-- Drives Neovim's own LSP client against `maclc lsp` (run by tests/lsp_nvim.rs):
-- open a file, wait for diagnostics, complete after `contact.`, apply a quick fix.
-- Written for Neovim 0.7 (Debian's), which has no vim.lsp.start. The waits are for conditions
-- (diagnostics arriving), with a generous limit so a broken server fails instead of hanging.
local bin = os.getenv("MACLC_BIN")
local file = os.getenv("MACLC_FILE")
local result = os.getenv("MACLC_RESULT")
local out = {}
local function log(s) table.insert(out, s) end

local function count_code(buf, code)
  local n = 0
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    if d.code == code then n = n + 1 end
  end
  return n
end

local ok, err = pcall(function()
  vim.cmd("edit " .. vim.fn.fnameescape(file))
  local buf = vim.api.nvim_get_current_buf()
  local client_id = vim.lsp.start_client({
    name = "maclc",
    cmd = { bin, "lsp" },
    root_dir = vim.fn.fnamemodify(file, ":h"),
    flags = { debounce_text_changes = 0 },
  })
  assert(client_id, "the client did not start")
  vim.lsp.buf_attach_client(buf, client_id)

  -- 1. Diagnostics arrive for the opened file.
  assert(vim.wait(30000, function() return #vim.diagnostic.get(buf) > 0 end, 10),
    "no diagnostics arrived")
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    log(string.format("diagnostic %d:%d %s %s", d.lnum, d.col, d.code or "?",
      vim.split(d.message, "\n")[1]))
  end
  local typos_before = count_code(buf, "E0101")

  -- 2. Completion after `contact.` on a new line.
  local probe = "segment probe = contact."
  vim.api.nvim_buf_set_lines(buf, -1, -1, false, { probe })
  local line = vim.api.nvim_buf_line_count(buf) - 1
  local responses = vim.lsp.buf_request_sync(buf, "textDocument/completion", {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    position = { line = line, character = #probe },
  }, 30000)
  local labels = {}
  for _, response in pairs(responses or {}) do
    local items = response.result or {}
    if items.items then items = items.items end
    for _, item in ipairs(items) do table.insert(labels, item.label) end
  end
  table.sort(labels)
  log("completion after contact.: " .. table.concat(labels, " "))
  vim.api.nvim_buf_set_lines(buf, line, line + 1, false, {})

  -- 3. The quick fix of the first misspelled field.
  local target
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    if d.code == "E0101" then target = d break end
  end
  assert(target, "no E0101 diagnostic to fix")
  local actions = vim.lsp.buf_request_sync(buf, "textDocument/codeAction", {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    range = {
      start = { line = target.lnum, character = target.col },
      ["end"] = { line = target.end_lnum, character = target.end_col },
    },
    context = { diagnostics = {} },
  }, 30000)
  local fix
  for _, response in pairs(actions or {}) do
    for _, action in ipairs(response.result or {}) do
      if action.kind == "quickfix" and action.edit then fix = fix or action end
    end
  end
  assert(fix, "no quick fix offered")
  log("quick fix: " .. fix.title)
  vim.lsp.util.apply_workspace_edit(fix.edit, "utf-16")
  log("line after the fix: " .. vim.api.nvim_buf_get_lines(buf, target.lnum, target.lnum + 1, false)[1])
  assert(vim.wait(30000, function() return count_code(buf, "E0101") < typos_before end, 10),
    "the diagnostic did not go away after the fix")
  log(string.format("E0101 diagnostics: %d before the fix, %d after", typos_before,
    count_code(buf, "E0101")))
  vim.lsp.stop_client(client_id)
end)

if not ok then log("FAILED: " .. tostring(err)) end
local f = io.open(result, "w")
f:write(table.concat(out, "\n") .. "\n")
f:close()
vim.cmd(ok and "qa!" or "cq!")
