package resp

import (
	"errors"
	"fmt"
	"os"

	"github.com/dynakv/dynakv/acl"
	"github.com/dynakv/dynakv/internal/atomicfile"
)

// errACLFileMissing: the ACL file does not exist (ACL LOAD's "opening
// file" error).
var errACLFileMissing = errors.New("ACL file missing")

const msgNoACLFile = "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration."

// loadACL replaces the users with Config.ACLFile's (all or nothing) and
// returns the users it removed (every one but default, as Redis does).
func (s *Server) loadACL() ([]*acl.User, error) {
	s.acl.fileMu.Lock()
	defer s.acl.fileMu.Unlock()
	data, err := atomicfile.Read(nil, s.cfg.ACLFile)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w: Error loading ACLs, opening file '%s': No such file or directory", errACLFileMissing, s.cfg.ACLFile)
		}
		return nil, fmt.Errorf("Error loading ACLs, opening file '%s': %w", s.cfg.ACLFile, err)
	}
	users, err := acl.ParseFile(s.cfg.ACLFile, data, &s.acl.cat)
	if err != nil {
		return nil, err
	}
	return s.acl.users.Replace(users), nil
}

// cmdACLLoad: ACL LOAD — the ACL file's users replace the current ones
// (not at all if the file has an error); the connections of the
// previous users but default are closed.
func cmdACLLoad(c *Conn, _ [][]byte) {
	if c.srv.cfg.ACLFile == "" {
		c.WriteError(msgNoACLFile)
		return
	}
	gone, err := c.srv.loadACL()
	if err != nil {
		msg := err.Error()
		if errors.Is(err, errACLFileMissing) {
			msg = msg[len(errACLFileMissing.Error())+2:]
		}
		c.WriteError("ERR " + msg)
		return
	}
	c.dropUsers(gone)
	c.dropSubscribers(c.srv.acl.users.Default())
	c.WriteOK()
}

// cmdACLSave: ACL SAVE — the users, as ACL LIST renders them, replace
// the ACL file (atomically: written aside, synced, renamed).
func cmdACLSave(c *Conn, _ [][]byte) {
	s := c.srv
	if s.cfg.ACLFile == "" {
		c.WriteError(msgNoACLFile)
		return
	}
	s.acl.fileMu.Lock()
	defer s.acl.fileMu.Unlock()
	if err := atomicfile.Write(nil, s.cfg.ACLFile, acl.FormatFile(s.acl.users.Users())); err != nil {
		s.log.Warn("resp: ACL SAVE", "file", s.cfg.ACLFile, "err", err)
		c.WriteError("ERR There was an error trying to save the ACLs. Please check the server logs for more information")
		return
	}
	c.WriteOK()
}
