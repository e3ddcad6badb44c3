-- Argo CD health check for dr.sdrs.io/ProtectionGroupDrill (sdrs-operator).
--
-- Install it as the argocd-cm key
--   resource.customizations.health.dr.sdrs.io_ProtectionGroupDrill
-- config/argocd/argocd-cm.yaml carries this file inlined; keep the two
-- identical (internal/health tests fail when they differ).
--
-- A drill is a one-shot object: Pending, Creating, Available (or
-- Verifying, while the verification Job runs), Releasing, then Released
-- for good; Failed when SDRS could not create it. The first rule that
-- matches decides:
--   Progressing  no status or no Ready condition yet (just created; a
--                Released drill has none: it answers with Reconciling)
--   Progressing  status.observedGeneration or Ready's observedGeneration is
--                older than metadata.generation (status describes an old spec)
--   Progressing  status.currentOperation is set (an SDRS create or delete
--                job in flight)
--   Progressing  Reconciling=True (waiting for something that resolves
--                itself, such as a delete retried after error-deleting)
--   Degraded     Stalled=True for the current generation (a person must act)
--   Degraded     phase Failed
--   Healthy      Ready=True for the current generation (Available, Verifying)
--   Healthy      phase Released (the drill is over; its record stays)
--   Progressing  anything else (Pending, Creating, Releasing)
-- The drill's verdict (status.outcome) is added to the message; a failed
-- verdict does not make the object Degraded: the drill ran, and the
-- verdict is what it found.
--
-- It uses only the Lua base and table libraries (Argo CD opens no string or
-- math library for health checks).

local hs = {}

local generation = 0
if obj.metadata ~= nil and obj.metadata.generation ~= nil then
  generation = obj.metadata.generation
end

local st = obj.status
local conditions = {}
if st ~= nil and st.conditions ~= nil then
  for _, c in ipairs(st.conditions) do
    if c.type ~= nil then
      conditions[c.type] = c
    end
  end
end

local function isTrue(t)
  return conditions[t] ~= nil and conditions[t].status == "True"
end

-- A condition describes the current spec when it was written for this
-- generation; a condition without observedGeneration counts as old.
local function isCurrent(t)
  local c = conditions[t]
  return c ~= nil and c.observedGeneration ~= nil and c.observedGeneration >= generation
end

-- The condition's message, or its reason when it has no message.
local function say(t)
  local c = conditions[t]
  if c == nil then
    return ""
  end
  if c.message ~= nil and c.message ~= "" then
    return c.message
  end
  if c.reason ~= nil then
    return c.reason
  end
  return ""
end

-- The verdict, as "; verdict: Passed (Job)", or "" without one.
local function verdict()
  local o = st.outcome
  if o == nil or o.result == nil then
    return ""
  end
  local v = "; verdict: " .. o.result
  if o.source ~= nil then
    v = v .. " (" .. o.source .. ")"
  end
  return v
end

local function progressing(msg)
  hs.status = "Progressing"
  hs.message = msg
  return hs
end

-- A Released drill's servers are gone for good, so it carries no Ready
-- condition; Reconciling speaks for it.
local mark = "Ready"
if st ~= nil and st.phase == "Released" and conditions["Ready"] == nil then
  mark = "Reconciling"
end

if st == nil or conditions[mark] == nil then
  return progressing("Waiting for the operator to report status")
end

local observed = 0
if st.observedGeneration ~= nil then
  observed = st.observedGeneration
end
if observed < generation or not isCurrent(mark) then
  local msg = "Waiting for the operator to reconcile generation " .. tostring(generation)
  if isTrue("Reconciling") and isCurrent("Reconciling") then
    msg = msg .. ": " .. say("Reconciling")
  end
  return progressing(msg)
end

local phase = st.phase
if phase == nil then
  phase = "Pending"
end

local op = st.currentOperation
if op ~= nil then
  local msg = tostring(op.type or "Operation") .. " in progress"
  if isTrue("Stalled") and isCurrent("Stalled") then
    msg = msg .. ": " .. say("Stalled")
  elseif isTrue("Reconciling") then
    msg = msg .. ": " .. say("Reconciling")
  elseif op.jobID ~= nil and op.jobID ~= "" then
    msg = msg .. ": SDRS job " .. op.jobID
  end
  return progressing(msg)
end

if isTrue("Reconciling") then
  return progressing(say("Reconciling"))
end

if isTrue("Stalled") and isCurrent("Stalled") then
  hs.status = "Degraded"
  hs.message = say("Stalled")
  return hs
end

if phase == "Failed" then
  hs.status = "Degraded"
  hs.message = say("Ready")
  return hs
end

if isTrue("Ready") then
  hs.status = "Healthy"
  hs.message = say("Ready") .. verdict()
  return hs
end

if phase == "Released" then
  hs.status = "Healthy"
  hs.message = say(mark) .. verdict()
  return hs
end

return progressing(say("Ready"))
